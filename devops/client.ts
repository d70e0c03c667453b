import type { WebApi } from "azure-devops-node-api";
import type { ICoreApi } from "azure-devops-node-api/CoreApi";
import type { IProfileApi } from "azure-devops-node-api/ProfileApi";
import type { IRequestHandler } from "azure-devops-node-api/interfaces/common/VsoBaseInterfaces";
import { BillingSetup, billingEndpoint, parseBillingSetup } from "./billingEndpoint";
import type { DevOpsCredential } from "./credentials";
import { isGuid } from "./guid";
import { DevOpsHost, devopsUrl, hostBase } from "./hosts";
import { ZERO_TENANT, organizationEndpoints } from "./organizationEndpoints";
import {
  AttemptFailure,
  DEFAULT_RETRY_POLICY,
  RetryPolicy,
  isTransientStatus,
  parseRetryAfter,
  withRetry,
} from "./retry";

/** One user of the organization, as the user entitlements API lists them. */
export interface OrganizationUser {
  /** Entitlement / storage id (GUID): what the owner and delete calls refer to. */
  readonly id: string;
  readonly descriptor?: string;
  /** Id of the identity in its origin (the Entra object id once bound to the tenant). */
  readonly originId?: string;
  readonly principalName: string;
  readonly mailAddress?: string;
  readonly displayName?: string;
  /** `msa` (Microsoft account) or `aad` (Entra). */
  readonly origin: string;
  /** `express` (Basic), `stakeholder`, … */
  readonly license: string;
  /** `active`, `pending`, `disabled`, … */
  readonly status: string;
  /** ISO date; absent when the user never signed in. */
  readonly lastAccessedDate?: string;
}

export interface OrganizationInfo {
  /**
   * The organization's GUID (lower case), which the billing endpoint is addressed by; undefined when
   * the answer carries no well-formed one, since only the billing check needs it.
   */
  readonly id?: string;
  /** The owner's user id (matches {@link OrganizationUser.id}). */
  readonly ownerId: string;
  /** The tenant the organization is connected to, or null when it is Microsoft-account backed. */
  readonly tenantId: string | null;
}

export interface ProjectInfo {
  readonly id: string;
  readonly name: string;
  /** From the project's `versioncontrol` capability. */
  readonly sourceControlType: "Git" | "Tfvc" | "unknown";
}

export interface Caller {
  readonly id: string;
  readonly displayName?: string;
  readonly emailAddress?: string;
}

/** A failed Azure DevOps call: names the organization, the call and Microsoft's own message. */
export interface DevOpsApiError extends Error {
  readonly name: "DevOpsApiError";
  readonly organization: string;
  readonly call: string;
  readonly status: number | undefined;
  readonly microsoftMessage: string;
}

/**
 * Makes a {@link DevOpsApiError}. A plain `Error` with fields, not a subclass: this code also runs
 * serialized inside the dynamic providers, and Pulumi's closure serializer turns `class … extends
 * Error` into a constructor whose instances are not Errors and lose their message (the engine
 * then reports "error: undefined").
 */
export function devOpsApiError(
  organization: string,
  call: string,
  status: number | undefined,
  microsoftMessage: string,
): DevOpsApiError {
  const err = new Error(
    `Azure DevOps organization "${organization}": ${call} failed` +
      `${status !== undefined ? ` with HTTP ${status}` : ""}: ${microsoftMessage}`,
  );
  return Object.assign(err, {
    name: "DevOpsApiError" as const,
    organization,
    call,
    status,
    microsoftMessage,
  });
}

/** True for the errors {@link devOpsApiError} makes. */
export function isDevOpsApiError(err: unknown): err is DevOpsApiError {
  return err instanceof Error && err.name === "DevOpsApiError";
}

export interface DevOpsClientOptions {
  readonly organization: string;
  readonly credential: DevOpsCredential;
  readonly retry?: Partial<RetryPolicy>;
  /** Progress lines for long runs (paging, retries); the program sends them to `pulumi.log.info`. */
  readonly onProgress?: (message: string) => void;
  /** Parallel project detail reads. */
  readonly concurrency?: number;
  /** Per-request timeout. */
  readonly requestTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

const NEVER = "0001-01-01T00:00:00";

interface HttpResult {
  readonly body: unknown;
  readonly headers: Headers;
}

/** One failed HTTP attempt, before the retry loop decides; never leaves this module. */
class HttpFailure {
  constructor(
    readonly message: string,
    readonly status: number | undefined,
    readonly transient: boolean,
    readonly retryAfterMs?: number,
  ) {}
}

/**
 * The Azure DevOps calls the migration needs. Documented REST calls that Microsoft's
 * `azure-devops-node-api` covers (projects, profile) go through it; the user entitlements list and
 * the organization endpoint, which it does not cover, use `fetch`. Every call is retried by the same
 * bounded policy and fails with a {@link DevOpsApiError}.
 */
export class DevOpsClient {
  /** HTTP requests sent so far (discovery requests of the Microsoft client included). */
  requestCount = 0;
  private readonly policy: RetryPolicy;
  private readonly env: NodeJS.ProcessEnv;
  private readonly webApis = new Map<DevOpsHost, Promise<WebApi>>();
  private readonly areas = new Map<string, Promise<unknown>>();
  private authorization = "";

  constructor(private readonly opts: DevOpsClientOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.env = opts.env ?? process.env;
  }

  get organization(): string {
    return this.opts.organization;
  }

  /** Every user of the organization, following `continuationToken` across all pages. */
  async listUsers(): Promise<OrganizationUser[]> {
    const users: OrganizationUser[] = [];
    const seenTokens = new Set<string>();
    let token: string | undefined;
    let page = 0;
    do {
      page++;
      const query: Record<string, string> = { "api-version": "7.1" };
      if (token !== undefined) query.continuationToken = token;
      const { body } = await this.request(
        `list users (page ${page})`,
        "vsaex",
        `/${this.org}/_apis/userentitlements`,
        query,
      );
      const list = body as {
        items?: unknown[];
        continuationToken?: string | null;
        totalCount?: number;
      };
      if (!Array.isArray(list.items)) {
        throw this.error(`list users (page ${page})`, undefined, "the answer has no `items` array");
      }
      for (const item of list.items) users.push(toOrganizationUser(item));
      token = list.continuationToken ?? undefined;
      if (token === "") token = undefined;
      if (token !== undefined) {
        // A token seen before would page forever.
        if (seenTokens.has(token)) {
          throw this.error(
            `list users (page ${page})`,
            undefined,
            "the service repeated a continuation token",
          );
        }
        seenTokens.add(token);
      }
      if (token !== undefined || page > 1) {
        const total = typeof list.totalCount === "number" ? ` of ${list.totalCount}` : "";
        this.progress(`listed ${users.length}${total} organization users`);
      }
    } while (token !== undefined);
    return users;
  }

  /** Owner and current tenant, from the organization endpoint (DOMAIN §2, undocumented). */
  async getOrganization(): Promise<OrganizationInfo> {
    const call = "read organization owner and tenant";
    const e = organizationEndpoints.readCollection;
    const { body } = await this.request(call, e.host, e.path(this.org), {
      "api-version": e.apiVersion,
    });
    const b = body as { id?: unknown; owner?: unknown; tenantId?: unknown };
    if (typeof b.owner !== "string") throw this.error(call, undefined, "the answer has no `owner`");
    return {
      ...(isGuid(b.id) ? { id: b.id.toLowerCase() } : {}),
      ownerId: b.owner.toLowerCase(),
      tenantId: tenantOrNull(b.tenantId),
    };
  }

  /**
   * Which Azure subscription bills the organization (undocumented commerce endpoint, see
   * docs/billing.md). A sign-in page, a redirect or an answer of another shape is an error, never
   * "not set up".
   */
  async getBillingSetup(organizationId: string): Promise<BillingSetup> {
    const call = "read the billing setup";
    if (!isGuid(organizationId)) {
      throw this.error(call, undefined, `the organization id "${organizationId}" is not a GUID`);
    }
    const e = billingEndpoint;
    const { body } = await this.request(
      call,
      e.host,
      e.path(organizationId.toLowerCase()),
      { "api-version": e.apiVersion },
      { refuseRedirects: true },
    );
    try {
      return parseBillingSetup(body);
    } catch (err) {
      throw this.error(call, undefined, (err as Error).message);
    }
  }

  /**
   * The tenant the organization is on, from the unauthenticated `X-VSS-ResourceTenant` header: a
   * second, independent reading used to verify a connection.
   */
  async getResourceTenant(): Promise<string | null> {
    const e = organizationEndpoints.resourceTenant;
    const { headers } = await this.request(
      "read resource tenant",
      e.host,
      e.path(this.org),
      {},
      { method: "HEAD" },
    );
    return tenantOrNull(headers.get(e.header));
  }

  /** Hands ownership to `ownerId` (a user id of this organization). The caller must be a Project Collection Administrator. */
  async changeOwner(ownerId: string): Promise<void> {
    const e = organizationEndpoints.changeOwner;
    await this.request(
      `change owner to ${ownerId}`,
      e.host,
      e.path(this.org),
      { "api-version": e.apiVersion },
      { method: "PATCH", body: e.body(ownerId), contentType: e.contentType },
    );
  }

  /** Connects the organization to `tenantId`, or disconnects it with the all-zero GUID. */
  async setTenant(tenantId: string): Promise<void> {
    const e = organizationEndpoints.setTenant;
    await this.request(
      tenantId === ZERO_TENANT ? "disconnect from the tenant" : `connect to tenant ${tenantId}`,
      e.host,
      e.path(this.org),
      { "api-version": e.apiVersion },
      { method: "PATCH", body: e.body(tenantId), contentType: e.contentType },
    );
  }

  /**
   * Maps (binds) an organization user to an Entra identity: the Graph user update with a
   * `GraphUserOriginIdUpdateContext` when the object id is known, else a
   * `GraphUserPrincipalNameUpdateContext` (DOMAIN §2 "Map / transfer a user's identity"; documented,
   * behaviour in a real organization unconfirmed).
   */
  async mapUser(
    descriptor: string,
    target: { principalName: string; originId?: string },
  ): Promise<void> {
    await this.request(
      `map user ${descriptor} to ${target.principalName}`,
      "vssps",
      `/${this.org}/_apis/graph/users/${encodeURIComponent(descriptor)}`,
      { "api-version": "7.1-preview.1" },
      {
        method: "PATCH",
        body: target.originId
          ? { originId: target.originId }
          : { principalName: target.principalName },
      },
    );
  }

  /** Adds a user with an account license (`express` is Basic); HTTP 200 with isSuccess:false is an error. */
  async addUser(principalName: string, license: string): Promise<OrganizationUser> {
    const call = `add user ${principalName}`;
    const { body } = await this.request(
      call,
      "vsaex",
      `/${this.org}/_apis/userentitlements`,
      { "api-version": "7.1" },
      {
        method: "POST",
        body: {
          accessLevel: { licensingSource: "account", accountLicenseType: license },
          user: { principalName, subjectKind: "user" },
        },
      },
    );
    const entitlement = (body as { userEntitlement?: unknown }).userEntitlement;
    if (!entitlement) throw this.error(call, undefined, "the answer has no `userEntitlement`");
    return toOrganizationUser(entitlement);
  }

  /** One user by id; undefined when the organization has no such user (404). */
  async getUser(id: string): Promise<OrganizationUser | undefined> {
    try {
      const { body } = await this.request(
        `read user ${id}`,
        "vsaex",
        `/${this.org}/_apis/userentitlements/${encodeURIComponent(id)}`,
        {
          "api-version": "7.1",
        },
      );
      return toOrganizationUser(body);
    } catch (err) {
      if (isDevOpsApiError(err) && err.status === 404) return undefined;
      throw err;
    }
  }

  /** The user with this principal name (case-insensitive), if the organization has one. */
  async findUser(principalName: string): Promise<OrganizationUser | undefined> {
    const wanted = principalName.trim().toLowerCase();
    const { body } = await this.request(
      `find user ${principalName}`,
      "vsaex",
      `/${this.org}/_apis/userentitlements`,
      {
        "api-version": "7.1",
        $filter: `name eq '${principalName.replace(/'/g, "''")}'`,
      },
    );
    const items = (body as { items?: unknown[] }).items ?? [];
    return items.map(toOrganizationUser).find((u) => u.principalName.toLowerCase() === wanted);
  }

  /** Removes a user; a user already gone (404) counts as removed. */
  async removeUser(id: string): Promise<void> {
    try {
      await this.request(
        `remove user ${id}`,
        "vsaex",
        `/${this.org}/_apis/userentitlements/${encodeURIComponent(id)}`,
        {
          "api-version": "7.1",
        },
        { method: "DELETE" },
      );
    } catch (err) {
      if (isDevOpsApiError(err) && err.status === 404) return;
      throw err;
    }
  }

  /** Every project with its version control type (a TFVC project blocks the connection, DOMAIN §1.6). */
  async listProjects(): Promise<ProjectInfo[]> {
    const top = 100;
    const refs: { id: string; name: string }[] = [];
    for (let skip = 0; ; skip += top) {
      const page = await this.viaMicrosoftClient(
        `list projects (skip ${skip})`,
        "core",
        async (api) => {
          const core = await this.area<ICoreApi>("core", () => api.getCoreApi());
          return core.getProjects(undefined, top, skip);
        },
      );
      for (const p of page ?? []) refs.push({ id: String(p.id), name: String(p.name) });
      if (!page || page.length < top) break;
    }
    const projects: ProjectInfo[] = new Array(refs.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < refs.length) {
        const i = next++;
        const ref = refs[i];
        const project = await this.viaMicrosoftClient(
          `read project "${ref.name}"`,
          "core",
          async (api) => {
            const core = await this.area<ICoreApi>("core", () => api.getCoreApi());
            return core.getProject(ref.id, true);
          },
        );
        const type = project?.capabilities?.versioncontrol?.sourceControlType;
        projects[i] = {
          id: ref.id,
          name: ref.name,
          sourceControlType: type === "Git" || type === "Tfvc" ? type : "unknown",
        };
      }
    };
    const workers = Math.max(1, Math.min(this.opts.concurrency ?? 4, refs.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return projects;
  }

  /** The identity the credential belongs to (profile "me"). */
  async whoAmI(): Promise<Caller> {
    const profile = await this.viaMicrosoftClient(
      "who am I (profile me)",
      "profile",
      async (api) => {
        const profiles = await this.area<IProfileApi>("profile", () => api.getProfileApi());
        return profiles.getProfile("me");
      },
    );
    // The REST answer carries displayName/emailAddress, which the client's typings omit.
    const p = profile as unknown as {
      id?: string;
      displayName?: string;
      emailAddress?: string;
    } | null;
    if (!p?.id) throw this.error("who am I (profile me)", undefined, "no profile returned");
    return { id: p.id, displayName: p.displayName, emailAddress: p.emailAddress };
  }

  private get org(): string {
    return encodeURIComponent(this.opts.organization);
  }

  private progress(message: string): void {
    this.opts.onProgress?.(`[${this.opts.organization}] ${message}`);
  }

  private error(call: string, status: number | undefined, message: string): DevOpsApiError {
    return devOpsApiError(this.opts.organization, call, status, message);
  }

  private retry<T>(
    call: string,
    attempt: () => Promise<T>,
    classify: (err: unknown) => AttemptFailure,
  ): Promise<T> {
    return withRetry(attempt, classify, this.policy, ({ attempt: n, delayMs }) =>
      this.progress(`${call}: attempt ${n} failed, retrying in ${(delayMs / 1000).toFixed(1)} s`),
    );
  }

  /** A JSON call over `fetch`, retried; `isSuccess:false` on HTTP 200 is a permanent failure. */
  private async request(
    call: string,
    host: DevOpsHost,
    path: string,
    query: Record<string, string>,
    init: {
      method?: string;
      body?: unknown;
      contentType?: string;
      /** A redirect is an error, not followed (it leads to a sign-in page). */
      refuseRedirects?: boolean;
    } = {},
  ): Promise<HttpResult> {
    const method = init.method ?? "GET";
    const url = `${devopsUrl(host, path, this.env)}?${new URLSearchParams(query).toString()}`;
    const described = `${call} (${method} ${path})`;
    return this.retry(
      described,
      async () => {
        const authorization = await this.opts.credential.authorizationHeader();
        let res: Response;
        this.requestCount++;
        try {
          res = await fetch(url, {
            method,
            headers: {
              Authorization: authorization,
              Accept: "application/json",
              ...(init.body !== undefined
                ? { "Content-Type": init.contentType ?? "application/json" }
                : {}),
            },
            body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
            signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 100_000),
            ...(init.refuseRedirects ? { redirect: "manual" as const } : {}),
          });
        } catch (err) {
          throw new HttpFailure(describeNetworkError(err), undefined, true);
        }
        if (res.status >= 300 && res.status < 400) {
          throw new HttpFailure(
            `the service redirected the request to ${res.headers.get("location") ?? "(no location)"} instead of answering (a sign-in page: the credential was not accepted)`,
            res.status,
            false,
          );
        }
        const text = await res.text();
        const body = parseJson(text);
        if (!res.ok) {
          throw new HttpFailure(
            microsoftMessage(body, text, res.statusText),
            res.status,
            isTransientStatus(res.status),
            parseRetryAfter(res.headers.get("retry-after")),
          );
        }
        // Azure DevOps answers 203 with its HTML sign-in page when it does not accept the credential.
        if (res.status === 203)
          throw new HttpFailure(
            "the service answered 203 Non-Authoritative Information, its sign-in page, not the API: the credential was not accepted",
            res.status,
            false,
          );
        // HEAD, DELETE and 204 answers have no body; any other answer must be JSON.
        if (body === undefined && text.trim() !== "")
          throw new HttpFailure(`the answer is not JSON: ${text.slice(0, 200)}`, res.status, false);
        // Entitlement calls report failures as HTTP 200 with isSuccess:false (DOMAIN §2).
        if (isFailedOperation(body))
          throw new HttpFailure(operationErrors(body), res.status, false);
        return { body, headers: res.headers };
      },
      (err) => classifyFailure(err, (status, message) => this.error(described, status, message)),
    );
  }

  /** Runs a call of Microsoft's client with our auth header and retry policy. */
  private viaMicrosoftClient<T>(
    call: string,
    host: DevOpsHost,
    run: (api: WebApi) => Promise<T>,
  ): Promise<T> {
    return this.retry(
      call,
      async () => {
        // Entra tokens expire: refresh the header the shared handler sends before every attempt.
        this.authorization = await this.opts.credential.authorizationHeader();
        return run(await this.webApi(host));
      },
      (err) => classifyFailure(err, (status, message) => this.error(call, status, message)),
    );
  }

  /**
   * One Microsoft client per host, kept for the client's lifetime: it caches the resource areas and
   * route templates it discovers (`_apis/resourceAreas`, `OPTIONS _apis/{area}`), which would
   * otherwise cost three extra requests per call.
   */
  private webApi(host: DevOpsHost): Promise<WebApi> {
    let api = this.webApis.get(host);
    if (api === undefined) {
      // `require` inside the method, not `import()`: this code also runs serialized inside dynamic
      // providers, where only plain `require` of a package resolves.
      const { WebApi: Client } =
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("azure-devops-node-api") as typeof import("azure-devops-node-api");
      api = Promise.resolve().then(() => {
        const base =
          host === "profile" ? hostBase(host, this.env) : `${hostBase(host, this.env)}/${this.org}`;
        const handler: IRequestHandler = {
          prepareRequest: (options) => {
            this.requestCount++;
            options.headers = { ...options.headers, Authorization: this.authorization };
          },
          canHandleAuthentication: () => false,
          handleAuthentication: () => Promise.reject(new Error("not supported")),
        };
        // The client's own retries stay off: one policy, ours, decides.
        return new Client(base, handler, {
          allowRetries: false,
          socketTimeout: this.opts.requestTimeoutMs ?? 100_000,
        });
      });
      this.webApis.set(host, api);
    }
    return api;
  }

  /** Area clients (core, profile) of the shared Microsoft client; a failed discovery is not kept. */
  private area<T>(key: string, make: () => Promise<T>): Promise<T> {
    let area = this.areas.get(key) as Promise<T> | undefined;
    if (area === undefined) {
      area = make();
      this.areas.set(key, area);
      area.catch(() => this.areas.delete(key));
    }
    return area;
  }
}

function classifyFailure(
  err: unknown,
  wrap: (status: number | undefined, message: string) => DevOpsApiError,
): AttemptFailure {
  if (err instanceof HttpFailure) {
    return {
      error: wrap(err.status, err.message),
      transient: err.transient,
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  }
  // Errors of azure-devops-node-api (typed-rest-client) carry statusCode and parsed rate-limit headers.
  const e = err as {
    statusCode?: number;
    message?: string;
    code?: string;
    rateLimit?: { retryAfter?: number };
  };
  if (typeof e.statusCode === "number") {
    const retryAfter = e.rateLimit?.retryAfter;
    return {
      error: wrap(e.statusCode, e.message ?? "request failed"),
      transient: isTransientStatus(e.statusCode),
      ...(typeof retryAfter === "number" && Number.isFinite(retryAfter)
        ? { retryAfterMs: retryAfter * 1000 }
        : {}),
    };
  }
  if (
    typeof e.code === "string" &&
    /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ESOCKETTIMEDOUT)$/.test(e.code)
  ) {
    return { error: wrap(undefined, `network error ${e.code}`), transient: true };
  }
  if (isDevOpsApiError(err)) return { error: err, transient: false };
  return { error: wrap(undefined, e.message ?? String(err)), transient: false };
}

function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return "the request timed out";
  const cause = e.cause?.code ?? e.cause?.message;
  return `network error${cause ? ` ${cause}` : ""}: ${e.message ?? String(err)}`;
}

function tenantOrNull(value: unknown): string | null {
  const tenant = typeof value === "string" ? value.trim().toLowerCase() : "";
  return tenant === "" || tenant === ZERO_TENANT ? null : tenant;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Microsoft's error bodies carry `message` (and `typeKey`); fall back to the raw text. */
function microsoftMessage(body: unknown, text: string, statusText: string): string {
  const b = body as { message?: unknown; typeKey?: unknown } | undefined;
  if (b && typeof b.message === "string") {
    return typeof b.typeKey === "string" ? `${b.message} (${b.typeKey})` : b.message;
  }
  if (body !== undefined && isFailedOperation(body)) return operationErrors(body);
  return text.trim() !== "" ? text.trim().slice(0, 500) : statusText || "no details";
}

interface OperationBody {
  isSuccess?: boolean;
  operationResult?: { isSuccess?: boolean; errors?: { key?: unknown; value?: unknown }[] };
  operationResults?: { errors?: { key?: unknown; value?: unknown }[] }[];
}

function isFailedOperation(body: unknown): body is OperationBody {
  const b = body as OperationBody | null;
  return (
    typeof b === "object" &&
    b !== null &&
    (b.isSuccess === false || b.operationResult?.isSuccess === false)
  );
}

function operationErrors(body: OperationBody): string {
  const errors = [
    ...(body.operationResult?.errors ?? []),
    ...(body.operationResults ?? []).flatMap((r) => r.errors ?? []),
  ];
  const text = errors.map(
    (e) => `${String(e.value ?? "")}${e.key !== undefined ? ` (code ${String(e.key)})` : ""}`,
  );
  return `the operation was refused (isSuccess:false): ${text.length > 0 ? text.join("; ") : "no error details"}`;
}

function toOrganizationUser(item: unknown): OrganizationUser {
  const e = item as {
    id?: string;
    user?: {
      originId?: string;
      principalName?: string;
      mailAddress?: string;
      displayName?: string;
      origin?: string;
      descriptor?: string;
    };
    accessLevel?: { accountLicenseType?: string; status?: string };
    lastAccessedDate?: string;
  };
  const principalName = e.user?.principalName ?? e.user?.mailAddress ?? "";
  const last =
    e.lastAccessedDate && !e.lastAccessedDate.startsWith(NEVER) ? e.lastAccessedDate : undefined;
  return {
    id: e.id ?? "",
    ...(e.user?.descriptor ? { descriptor: e.user.descriptor } : {}),
    ...(e.user?.originId ? { originId: e.user.originId } : {}),
    principalName,
    ...(e.user?.mailAddress ? { mailAddress: e.user.mailAddress } : {}),
    ...(e.user?.displayName ? { displayName: e.user.displayName } : {}),
    origin: (e.user?.origin ?? "unknown").toLowerCase(),
    license: e.accessLevel?.accountLicenseType ?? "none",
    status: e.accessLevel?.status ?? "none",
    ...(last ? { lastAccessedDate: last } : {}),
  };
}
