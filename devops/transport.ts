/**
 * One way to talk to Azure DevOps: a JSON request over `fetch`, retried by one bounded policy, that
 * fails with a {@link DevOpsApiError} naming the call. Fail closed on every answer that is not the
 * API's own: a redirect (never followed, so a credential never reaches another host), an HTTP 203
 * or any body that is not JSON (Azure DevOps answers its HTML sign-in page to a credential it does
 * not accept), and `isSuccess:false` on HTTP 200 (how the entitlement calls refuse). See
 * docs/azure-devops-apis.md.
 */
import type { DevOpsCredential } from "./credentials";
import { type DevOpsApiError, devOpsApiError, isDevOpsApiError } from "./errors";
import { type DevOpsHost, devopsUrl } from "./hosts";
import {
  AttemptFailure,
  DEFAULT_RETRY_POLICY,
  RetryPolicy,
  isTransientStatus,
  parseRetryAfter,
  withRetry,
} from "./retry";

export interface TransportOptions {
  readonly organization: string;
  readonly credential: DevOpsCredential;
  readonly retry?: Partial<RetryPolicy>;
  /** Progress lines for long runs (paging, retries, throttling). */
  readonly onProgress?: (message: string) => void;
  /** Per-request timeout; default 100 s. */
  readonly requestTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface HttpRequest {
  /** What the call does, for messages: "list users (page 2)". */
  readonly call: string;
  readonly host: DevOpsHost;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly method?: "GET" | "HEAD" | "POST" | "PATCH" | "DELETE";
  readonly body?: unknown;
  readonly contentType?: string;
  /** Send no credential at all: the unauthenticated tenant probe. */
  readonly anonymous?: boolean;
  /** Error statuses whose answer the caller reads (the probe's 401 carries the header it wants). */
  readonly acceptStatuses?: readonly number[];
}

export interface HttpResult {
  readonly status: number;
  /** The parsed JSON body; undefined for an empty body (HEAD, 204, a bodiless DELETE). */
  readonly body: unknown;
  readonly headers: Headers;
}

/** One failed HTTP attempt, before the retry policy decides; never leaves this module. */
interface HttpFailure {
  readonly kind: "HttpFailure";
  readonly message: string;
  readonly status: number | undefined;
  readonly transient: boolean;
  readonly retryAfterMs?: number;
}

function failure(
  message: string,
  status: number | undefined,
  transient: boolean,
  retryAfterMs?: number,
): HttpFailure {
  return {
    kind: "HttpFailure",
    message,
    status,
    transient,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** Sends requests for one organization and one credential, and counts them. */
export class DevOpsTransport {
  /** HTTP requests sent so far. */
  requestCount = 0;
  private readonly policy: RetryPolicy;
  private readonly env: NodeJS.ProcessEnv;
  /** Azure DevOps may ask to slow down on a successful answer: no request before this time. */
  private pausedUntil = 0;

  constructor(private readonly opts: TransportOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.env = opts.env ?? process.env;
  }

  get organization(): string {
    return this.opts.organization;
  }

  progress(message: string): void {
    this.opts.onProgress?.(`[${this.opts.organization}] ${message}`);
  }

  error(call: string, status: number | undefined, message: string): DevOpsApiError {
    return devOpsApiError(this.opts.organization, call, status, message);
  }

  /** One call, retried while its failures are transient. */
  send(req: HttpRequest): Promise<HttpResult> {
    const method = req.method ?? "GET";
    const query = new URLSearchParams(req.query ?? {}).toString();
    const url = `${devopsUrl(req.host, req.path, this.env)}${query ? `?${query}` : ""}`;
    const described = `${req.call} (${method} ${req.path})`;
    return withRetry(
      () => this.attempt(url, method, req),
      (err) => this.classify(err, described),
      this.policy,
      ({ attempt: n, delayMs }) =>
        this.progress(
          `${described}: attempt ${n} failed, retrying in ${(delayMs / 1000).toFixed(1)} s`,
        ),
    );
  }

  private async attempt(url: string, method: string, req: HttpRequest): Promise<HttpResult> {
    await this.respectPause();
    const headers: Record<string, string> = { Accept: "application/json" };
    if (!req.anonymous) headers.Authorization = await this.opts.credential.authorizationHeader();
    if (req.body !== undefined) headers["Content-Type"] = req.contentType ?? "application/json";
    let res: Response;
    this.requestCount++;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
        // Never follow: a redirect leads to a sign-in page or another host, where the
        // Authorization header must not go.
        redirect: "manual",
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 100_000),
      });
    } catch (err) {
      throw failure(describeNetworkError(err), undefined, true);
    }
    this.notePause(res);
    return readAnswer(res, req.acceptStatuses ?? []);
  }

  /** `Retry-After` on a successful answer: Azure DevOps is delaying this identity's requests. */
  private notePause(res: Response): void {
    if (!res.ok) return;
    const ms = parseRetryAfter(res.headers.get("retry-after"));
    if (ms === undefined || ms <= 0) return;
    const wait = Math.min(ms, this.policy.maxRetryAfterMs);
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + wait);
    this.progress(`Azure DevOps asked to slow down: next request in ${(wait / 1000).toFixed(1)} s`);
  }

  private async respectPause(): Promise<void> {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private classify(err: unknown, described: string): AttemptFailure {
    const f = err as Partial<HttpFailure> | undefined;
    if (f?.kind === "HttpFailure") {
      return {
        error: this.error(described, f.status, f.message ?? "request failed"),
        transient: f.transient === true,
        ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
      };
    }
    if (isDevOpsApiError(err)) return { error: err, transient: false };
    // A credential that cannot produce a header (no Entra login, no temporary owner token).
    return {
      error: this.error(described, undefined, (err as Error).message ?? String(err)),
      transient: false,
    };
  }
}

/** The answer as the API's own, or the failure it is. */
async function readAnswer(res: Response, accepted: readonly number[]): Promise<HttpResult> {
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get("location");
    const to = location ? hostOf(location) : "(no location)";
    throw failure(
      `the service redirected the request to ${to} instead of answering; the redirect is not followed, so no credential leaves Azure DevOps (a redirect to a sign-in page means the credential was not accepted)`,
      res.status,
      false,
    );
  }
  // Azure DevOps answers 203 with its sign-in page when it does not accept the credential.
  if (res.status === 203) {
    throw failure(
      "the service answered 203 Non-Authoritative Information (its sign-in page), not the API: the credential was not accepted",
      res.status,
      false,
    );
  }
  const text = await res.text();
  const parsed = parseJson(text);
  if (!parsed.json) {
    throw failure(
      `the answer is not JSON (${res.headers.get("content-type") ?? "no content type"}${/<html/i.test(text) ? ", an HTML page: Azure DevOps' sign-in page when it does not accept the credential" : ""})`,
      res.status,
      res.status >= 500 && isTransientStatus(res.status),
    );
  }
  const body = parsed.value;
  if (!res.ok && !accepted.includes(res.status)) {
    throw failure(
      microsoftMessage(body, res.statusText),
      res.status,
      isTransientStatus(res.status),
      parseRetryAfter(res.headers.get("retry-after")),
    );
  }
  // The entitlement calls report refusals as HTTP 200 with isSuccess:false.
  if (isFailedOperation(body)) throw failure(operationErrors(body), res.status, false);
  return { status: res.status, body, headers: res.headers };
}

function hostOf(location: string): string {
  try {
    return new URL(location).host || location;
  } catch {
    return "an unreadable location";
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return "the request timed out";
  const cause = e.cause?.code ?? e.cause?.message;
  return `network error${cause ? ` ${cause}` : ""}: ${e.message ?? String(err)}`;
}

/** An empty body is JSON's "nothing" (HEAD, 204, a bodiless DELETE); anything else must parse. */
function parseJson(text: string): { json: true; value: unknown } | { json: false } {
  if (text.trim() === "") return { json: true, value: undefined };
  try {
    return { json: true, value: JSON.parse(text) as unknown };
  } catch {
    return { json: false };
  }
}

/** Microsoft's error bodies carry `message` (and `typeKey`); some are a bare JSON string. */
function microsoftMessage(body: unknown, statusText: string): string {
  if (typeof body === "string" && body.trim() !== "") return body.trim().slice(0, 500);
  const b = body as { message?: unknown; typeKey?: unknown } | undefined;
  if (b && typeof b.message === "string") {
    return typeof b.typeKey === "string" ? `${b.message} (${b.typeKey})` : b.message;
  }
  if (body !== undefined && isFailedOperation(body)) return operationErrors(body);
  return statusText || "no details";
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
