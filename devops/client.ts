/**
 * The Azure DevOps calls the migration needs, for one organization and one credential: a thin facade
 * over {@link DevOpsTransport} (sending, retries, failure classification), the endpoint tables
 * (`endpoints.ts`, `organizationEndpoints.ts`, `billingEndpoint.ts`) and the parsers (`parse.ts`).
 */
import { BillingSetup, billingEndpoint, parseBillingSetup } from "./billingEndpoint";
import type { DevOpsCredential } from "./credentials";
import * as endpoints from "./endpoints";
import { unlessNotFound } from "./errors";
import { isGuid } from "./guid";
import { ZERO_TENANT, organizationEndpoints } from "./organizationEndpoints";
import * as parse from "./parse";
import type { RetryPolicy } from "./retry";
import { DevOpsTransport, type HttpRequest } from "./transport";

export type { Caller, UserEntitlement, ProjectInfo, VersionControl } from "./parse";
export {
  type DevOpsApiError,
  devOpsApiError,
  isCredentialRefusal,
  isDevOpsApiError,
} from "./errors";

export interface OrganizationInfo {
  /**
   * The organization's GUID (lower case), which the billing endpoint is addressed by; undefined when
   * the answer carries no well-formed one, since only the billing check needs it.
   */
  readonly id?: string;
  /** The owner's user id (matches {@link parse.UserEntitlement.id}). */
  readonly ownerId: string;
  /** The tenant the organization is connected to, or null when it is Microsoft-account backed. */
  readonly tenantId: string | null;
}

/**
 * Every user the listing returned, and what makes it incomplete. An organization always has its
 * owner, so an empty listing is a problem too (usually a token that may not see all users).
 */
export interface UserListing {
  readonly users: parse.UserEntitlement[];
  /** What the service said the total is, when it said. */
  readonly totalCount?: number;
  /** Why the listing cannot be trusted to be complete; empty when it can. */
  readonly problems: readonly string[];
}

export interface DevOpsClientOptions {
  readonly organization: string;
  readonly credential: DevOpsCredential;
  readonly retry?: Partial<RetryPolicy>;
  /** Progress lines for long runs (paging, retries); the program sends them to `pulumi.log.info`. */
  readonly onProgress?: (message: string) => void;
  /** Parallel project detail reads; default 4. */
  readonly concurrency?: number;
  /** Per-request timeout. */
  readonly requestTimeoutMs?: number;
  /** The most user pages to read; default enough for the announced total, at most 10,000. */
  readonly maxUserPages?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Pages of 100 users: 10,000 pages is a million users, far beyond any organization. */
const USER_PAGE_CAP = 10_000;

export class DevOpsClient {
  private readonly transport: DevOpsTransport;

  constructor(private readonly opts: DevOpsClientOptions) {
    this.transport = new DevOpsTransport(opts);
  }

  get organization(): string {
    return this.opts.organization;
  }

  /** HTTP requests sent so far. */
  get requestCount(): number {
    return this.transport.requestCount;
  }

  private get org(): string {
    return encodeURIComponent(this.opts.organization);
  }

  /** Sends `req`; a body that does not have the expected shape fails naming the call. */
  private async read<T>(req: HttpRequest, parser: (body: unknown) => T): Promise<T> {
    const { body } = await this.transport.send(req);
    try {
      return parser(body);
    } catch (err) {
      throw this.transport.error(req.call, undefined, (err as Error).message);
    }
  }

  /**
   * Every user of the organization, following `continuationToken` across pages, with what makes the
   * listing incomplete: no users, a total that disagrees, a repeated token, a user listed twice, or
   * the page limit reached.
   */
  async listUsers(): Promise<UserListing> {
    const e = endpoints.userEntitlements;
    const users: parse.UserEntitlement[] = [];
    const ids = new Set<string>();
    const tokens = new Set<string>();
    const problems: string[] = [];
    let totalCount: number | undefined;
    let token: string | undefined;
    let page = 0;
    do {
      page++;
      const listed = await this.read(
        {
          call: `list users (page ${page})`,
          host: e.host,
          path: e.list(this.org),
          query: { "api-version": e.apiVersion, ...(token ? { continuationToken: token } : {}) },
        },
        parse.userPage,
      );
      totalCount ??= listed.totalCount;
      for (const user of listed.items) {
        if (ids.has(user.id)) problems.push(`the listing returned user ${user.id} twice`);
        else users.push(user);
        ids.add(user.id);
      }
      token = listed.continuationToken;
      if (token !== undefined && tokens.has(token)) {
        problems.push(`the service repeated a continuation token on page ${page}; listing stopped`);
        break;
      }
      if (token !== undefined) tokens.add(token);
      const cap = this.userPageCap(totalCount, listed.items.length);
      if (token !== undefined && page >= cap) {
        problems.push(`listing stopped at the limit of ${cap} pages with more announced`);
        break;
      }
      if (token !== undefined || page > 1) {
        const total = totalCount !== undefined ? ` of ${totalCount}` : "";
        this.transport.progress(`listed ${users.length}${total} organization users`);
      }
    } while (token !== undefined);
    if (users.length === 0) {
      problems.push(
        "the listing returned no users, yet an organization always has its owner (can the token see all users?)",
      );
    }
    if (totalCount !== undefined && totalCount !== users.length) {
      problems.push(`the service announced ${totalCount} users but listed ${users.length}`);
    }
    return { users, ...(totalCount !== undefined ? { totalCount } : {}), problems };
  }

  /** Enough pages for the announced total (plus slack), never more than the hard cap. */
  private userPageCap(totalCount: number | undefined, pageSize: number): number {
    if (this.opts.maxUserPages !== undefined) return this.opts.maxUserPages;
    if (totalCount === undefined || pageSize === 0) return USER_PAGE_CAP;
    return Math.min(USER_PAGE_CAP, Math.ceil(totalCount / pageSize) + 2);
  }

  /** One user by id; undefined when the organization has no such user (404). */
  getUser(id: string): Promise<parse.UserEntitlement | undefined> {
    const e = endpoints.userEntitlements;
    return unlessNotFound(
      this.read(
        {
          call: `read user ${id}`,
          host: e.host,
          path: e.one(this.org, id),
          query: { "api-version": e.apiVersion },
        },
        parse.userEntitlement,
      ),
    );
  }

  /** The user with this principal name (case-insensitive), if the organization has one. */
  async findUser(principalName: string): Promise<parse.UserEntitlement | undefined> {
    const e = endpoints.userEntitlements;
    const wanted = principalName.trim().toLowerCase();
    const page = await this.read(
      {
        call: `find user ${principalName}`,
        host: e.host,
        path: e.list(this.org),
        query: {
          "api-version": e.apiVersion,
          $filter: `name eq '${principalName.replace(/'/g, "''")}'`,
        },
      },
      parse.userPage,
    );
    return page.items.find((u) => u.principalName.toLowerCase() === wanted);
  }

  /** Adds a user with an account license (`express` is Basic); HTTP 200 with isSuccess:false is an error. */
  addUser(principalName: string, license: string): Promise<parse.UserEntitlement> {
    const e = endpoints.userEntitlements;
    return this.read(
      {
        call: `add user ${principalName}`,
        host: e.host,
        path: e.list(this.org),
        query: { "api-version": e.apiVersion },
        method: "POST",
        body: {
          accessLevel: { licensingSource: "account", accountLicenseType: license },
          user: { principalName, subjectKind: "user" },
        },
      },
      parse.addedUser,
    );
  }

  /** Removes a user; a user already gone (404) counts as removed. */
  async removeUser(id: string): Promise<void> {
    const e = endpoints.userEntitlements;
    await unlessNotFound(
      this.transport.send({
        call: `remove user ${id}`,
        host: e.host,
        path: e.one(this.org, id),
        query: { "api-version": e.apiVersion },
        method: "DELETE",
      }),
    );
  }

  /**
   * Maps (binds) an organization user to an Entra identity: Graph Users - Update with a
   * `GraphUserOriginIdUpdateContext` when the object id is known, else a
   * `GraphUserPrincipalNameUpdateContext` (documented; its behaviour in a real organization is
   * unconfirmed, see docs/azure-devops-apis.md).
   */
  async mapUser(
    descriptor: string,
    target: { principalName: string; originId?: string },
  ): Promise<void> {
    const e = endpoints.graphUsers;
    await this.transport.send({
      call: `map user ${descriptor} to ${target.principalName}`,
      host: e.host,
      path: e.one(this.org, descriptor),
      query: { "api-version": e.apiVersion },
      method: "PATCH",
      body: target.originId
        ? { originId: target.originId }
        : { principalName: target.principalName },
    });
  }

  /**
   * Every project with what its version control capability says about TFVC. An answer that is not
   * the API's (a sign-in page, an empty body, a count that disagrees) fails the call: it is never
   * read as "no projects".
   */
  async listProjects(): Promise<parse.ProjectInfo[]> {
    const e = endpoints.projects;
    const refs: { id: string; name: string }[] = [];
    for (let skip = 0; ; skip += e.pageSize) {
      const page = await this.read(
        {
          call: `list projects (skip ${skip})`,
          host: e.host,
          path: e.list(this.org),
          query: { "api-version": e.apiVersion, $top: String(e.pageSize), $skip: String(skip) },
        },
        parse.projectPage,
      );
      refs.push(...page);
      if (page.length < e.pageSize) break;
    }
    return this.parallel(refs, async (ref) => ({
      ...ref,
      versionControl: await this.read(
        {
          call: `read project "${ref.name}"`,
          host: e.host,
          path: e.one(this.org, ref.id),
          query: { "api-version": e.apiVersion, includeCapabilities: "true" },
        },
        parse.projectVersionControl,
      ),
    }));
  }

  /** Runs `work` over `items` with the configured concurrency, keeping their order. */
  private async parallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    };
    const workers = Math.max(1, Math.min(this.opts.concurrency ?? 4, items.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
  }

  /** The identity the credential belongs to (profile "me"). */
  whoAmI(): Promise<parse.Caller> {
    const e = endpoints.profile;
    return this.read(
      {
        call: "who am I (profile me)",
        host: e.host,
        path: e.me(),
        query: { "api-version": e.apiVersion },
      },
      parse.caller,
    );
  }

  /** Owner and current tenant, from the organization endpoint (undocumented). */
  getOrganization(): Promise<OrganizationInfo> {
    const e = organizationEndpoints.readCollection;
    return this.read(
      {
        call: "read organization owner and tenant",
        host: e.host,
        path: e.path(this.org),
        query: { "api-version": e.apiVersion },
      },
      (body) => {
        const b = (body ?? {}) as { id?: unknown; owner?: unknown; tenantId?: unknown };
        if (!isGuid(b.owner)) throw new Error("the answer has no `owner` GUID");
        return {
          ...(isGuid(b.id) ? { id: b.id.toLowerCase() } : {}),
          ownerId: b.owner.toLowerCase(),
          tenantId: tenantOrNull(b.tenantId),
        };
      },
    );
  }

  /**
   * The tenant the organization is on, from the `X-VSS-ResourceTenant` header of an anonymous
   * request (Git Credential Manager reads it so, whatever the status): a second opinion when
   * verifying a connection. Undefined when the header is absent; no credential is sent.
   */
  async getResourceTenant(): Promise<string | null | undefined> {
    const e = organizationEndpoints.resourceTenant;
    const { headers } = await this.transport.send({
      call: "read resource tenant",
      host: e.host,
      path: e.path(this.org),
      method: "HEAD",
      anonymous: true,
      acceptStatuses: [401, 403, 404],
    });
    const value = headers.get(e.header);
    return value === null ? undefined : tenantOrNull(value);
  }

  /** Hands ownership to `ownerId` (a user id of this organization). The caller must be a Project Collection Administrator. */
  async changeOwner(ownerId: string): Promise<void> {
    const e = organizationEndpoints.changeOwner;
    await this.transport.send({
      call: `change owner to ${ownerId}`,
      host: e.host,
      path: e.path(this.org),
      query: { "api-version": e.apiVersion },
      method: "PATCH",
      body: e.body(ownerId),
      contentType: e.contentType,
    });
  }

  /** Connects the organization to `tenantId`, or disconnects it with the all-zero GUID. */
  async setTenant(tenantId: string): Promise<void> {
    const e = organizationEndpoints.setTenant;
    await this.transport.send({
      call:
        tenantId === ZERO_TENANT ? "disconnect from the tenant" : `connect to tenant ${tenantId}`,
      host: e.host,
      path: e.path(this.org),
      query: { "api-version": e.apiVersion },
      method: "PATCH",
      body: e.body(tenantId),
      contentType: e.contentType,
    });
  }

  /**
   * Which Azure subscription bills the organization (undocumented commerce endpoint, see
   * docs/billing.md). A sign-in page, a redirect or an answer of another shape is an error, never
   * "not set up".
   */
  getBillingSetup(organizationId: string): Promise<BillingSetup> {
    const call = "read the billing setup";
    if (!isGuid(organizationId)) {
      return Promise.reject(
        this.transport.error(
          call,
          undefined,
          `the organization id "${organizationId}" is not a GUID`,
        ),
      );
    }
    const e = billingEndpoint;
    return this.read(
      {
        call,
        host: e.host,
        path: e.path(organizationId.toLowerCase()),
        query: { "api-version": e.apiVersion },
      },
      parseBillingSetup,
    );
  }
}

function tenantOrNull(value: unknown): string | null {
  const tenant = typeof value === "string" ? value.trim().toLowerCase() : "";
  return tenant === "" || tenant === ZERO_TENANT ? null : tenant;
}
