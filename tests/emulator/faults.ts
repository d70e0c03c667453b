/**
 * Injected faults: throttling, errors, latency, lost responses. A rule matches by method and path
 * and hits a given number of requests; what it answers is decided here, in one place.
 */
import { ERRORS, type Headers, vssErrorBody } from "./errors";
import { type Reply, asObject } from "./http";

export interface FaultRule {
  /** HTTP method to match, case-insensitive; default any. */
  method?: string;
  /** A string matches as a case-insensitive substring of the decoded path (no query string). */
  path: string | RegExp;
  /** Status to answer with, e.g. 429, 500, 503. Without it (and without `body`, `text`, `drop`) the
   * request then proceeds normally, so a rule with only `delayMs` models latency. */
  status?: number;
  /** Seconds, sent as `Retry-After`; 429 answers send 1 when unset. */
  retryAfter?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** JSON body to answer with instead of the default error body; with no `status`, HTTP 200. */
  body?: unknown;
  /**
   * A raw body instead (e.g. the HTML sign-in page Azure DevOps answers a refused credential with);
   * with no `status`, HTTP 200. Not together with `body`.
   */
  text?: string;
  /** Content-Type of `text`; default "text/html; charset=utf-8". */
  contentType?: string;
  /**
   * Extra response headers, e.g. `Location` for a redirect or a replaced `WWW-Authenticate`. On a
   * rule that lets the request proceed, they are added to the real answer.
   */
  headers?: Record<string, string>;
  /** How many matching requests the rule hits; default 1; `Infinity` allowed. */
  times?: number;
  /**
   * The request reaches the service and its write is committed; only then is the fault answered
   * (its status or body, or a dropped connection): a response lost after the fact.
   */
  afterCommit?: boolean;
  /** Drop the connection instead of answering (no status, no body). */
  drop?: boolean;
  /**
   * Add the rate-limit headers (`Retry-After` when `retryAfter` is set, `X-RateLimit-*`) to the
   * answer, whatever it is: the service sends them on successful answers too.
   */
  rateLimited?: boolean;
}

export interface ActiveFault {
  rule: FaultRule;
  remaining: number;
}

/** What a fault does to one request. */
export interface FaultEffect {
  delayMs: number;
  /** The answer that replaces the service's; undefined: the service answers. */
  reply?: Reply;
  drop: boolean;
  afterCommit: boolean;
  /** Headers added to the service's own answer. */
  extraHeaders: Headers;
}

const TEXT_CONTENT_TYPE = "text/html; charset=utf-8";

export function checkFaultRule(rule: FaultRule): FaultRule {
  if (typeof rule.path !== "string" && !(rule.path instanceof RegExp)) {
    throw new Error("fault rule: path must be a string or a RegExp");
  }
  if (rule.method !== undefined && (typeof rule.method !== "string" || rule.method === "")) {
    throw new Error("fault rule: method must be a non-empty string");
  }
  if (
    rule.status !== undefined &&
    (!Number.isInteger(rule.status) || rule.status < 200 || rule.status > 599)
  ) {
    throw new Error(
      `fault rule: status must be an HTTP status 200-599 (got ${String(rule.status)})`,
    );
  }
  for (const key of ["retryAfter", "delayMs"] as const) {
    const value = rule[key];
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    ) {
      throw new Error(`fault rule: ${key} must be a finite number >= 0 (got ${String(value)})`);
    }
  }
  for (const key of ["afterCommit", "drop", "rateLimited"] as const) {
    if (rule[key] !== undefined && typeof rule[key] !== "boolean") {
      throw new Error(`fault rule: ${key} must be true or false`);
    }
  }
  if (rule.text !== undefined && typeof rule.text !== "string") {
    throw new Error("fault rule: text must be a string");
  }
  if (rule.text !== undefined && rule.body !== undefined) {
    throw new Error("fault rule: give body (JSON) or text (raw), not both");
  }
  if (
    rule.drop === true &&
    (rule.status !== undefined || rule.body !== undefined || rule.text !== undefined)
  ) {
    throw new Error("fault rule: a dropped connection answers nothing: no status, body or text");
  }
  if (
    rule.afterCommit === true &&
    rule.drop !== true &&
    rule.status === undefined &&
    rule.body === undefined &&
    rule.text === undefined
  ) {
    throw new Error(
      "fault rule: afterCommit needs what replaces the answer: status, body, text or drop",
    );
  }
  if (
    rule.contentType !== undefined &&
    (typeof rule.contentType !== "string" || rule.contentType.trim() === "")
  ) {
    throw new Error("fault rule: contentType must be a non-empty string");
  }
  if (rule.contentType !== undefined && rule.text === undefined) {
    throw new Error("fault rule: contentType only applies to a text body");
  }
  if (
    rule.headers !== undefined &&
    (asObject(rule.headers) === undefined ||
      Object.values(rule.headers).some((v) => typeof v !== "string"))
  ) {
    throw new Error("fault rule: headers must be an object of header name -> string value");
  }
  const times = rule.times ?? 1;
  if (
    typeof times !== "number" ||
    !(times === Infinity || (Number.isInteger(times) && times >= 1))
  ) {
    throw new Error(
      `fault rule: times must be an integer >= 1 or Infinity (got ${String(rule.times)})`,
    );
  }
  return { ...rule, times };
}

const JSON_FIELDS = [
  "method",
  "path",
  "pathRegex",
  "flags",
  "status",
  "retryAfter",
  "delayMs",
  "body",
  "text",
  "contentType",
  "headers",
  "times",
  "afterCommit",
  "drop",
  "rateLimited",
];

/** The JSON form of a rule (control endpoint): `path` as a string, or `pathRegex` (+ `flags`). */
export function faultRuleFromJson(raw: unknown): FaultRule {
  const o = asObject(raw);
  if (o === undefined) {
    throw new Error("fault rule: body must be a JSON object");
  }
  const unknown = Object.keys(o).filter((k) => !JSON_FIELDS.includes(k));
  if (unknown.length > 0) {
    throw new Error(
      `fault rule: unknown field(s) ${unknown.join(", ")}; allowed: ${JSON_FIELDS.join(", ")}`,
    );
  }
  let path: string | RegExp;
  if (typeof o.pathRegex === "string") {
    try {
      path = new RegExp(o.pathRegex, typeof o.flags === "string" ? o.flags : "");
    } catch (err) {
      throw new Error(
        `fault rule: pathRegex is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  } else if (typeof o.path === "string") {
    path = o.path;
  } else {
    throw new Error(
      'fault rule: give "path" (substring) or "pathRegex" (regular expression) as a string',
    );
  }
  // JSON has no Infinity: accept the string "Infinity".
  const times = o.times === "Infinity" ? Infinity : o.times;
  return checkFaultRule({
    method: o.method as string | undefined,
    path,
    status: o.status as number | undefined,
    retryAfter: o.retryAfter as number | undefined,
    delayMs: o.delayMs as number | undefined,
    body: o.body,
    text: o.text as string | undefined,
    contentType: o.contentType as string | undefined,
    headers: o.headers as Record<string, string> | undefined,
    times: times as number | undefined,
    afterCommit: o.afterCommit as boolean | undefined,
    drop: o.drop as boolean | undefined,
    rateLimited: o.rateLimited as boolean | undefined,
  });
}

export function faultRuleToJson(fault: ActiveFault): Record<string, unknown> {
  const { rule } = fault;
  return {
    method: rule.method,
    ...(rule.path instanceof RegExp
      ? { pathRegex: rule.path.source, flags: rule.path.flags }
      : { path: rule.path }),
    status: rule.status,
    retryAfter: rule.retryAfter,
    delayMs: rule.delayMs,
    body: rule.body,
    text: rule.text,
    contentType: rule.contentType,
    headers: rule.headers,
    afterCommit: rule.afterCommit,
    drop: rule.drop,
    rateLimited: rule.rateLimited,
    remaining: fault.remaining === Infinity ? "Infinity" : fault.remaining,
  };
}

/** The first rule matching the request, counted as one hit; undefined when none matches. */
export function takeFault(
  faults: ActiveFault[],
  method: string,
  path: string,
): FaultRule | undefined {
  const index = faults.findIndex(({ rule }) => {
    if (rule.method !== undefined && rule.method.toUpperCase() !== method) {
      return false;
    }
    if (rule.path instanceof RegExp) {
      rule.path.lastIndex = 0; // a /g or /y regex is stateful across test() calls
      return rule.path.test(path);
    }
    return path.toLowerCase().includes(rule.path.toLowerCase());
  });
  if (index < 0) {
    return undefined;
  }
  const fault = faults[index];
  fault.remaining -= 1;
  if (fault.remaining <= 0) {
    faults.splice(index, 1);
  }
  return fault.rule;
}

// rule F2 [doc] Throttling headers: Retry-After, X-RateLimit-Resource, -Delay, -Limit, -Remaining, -Reset (https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits)
export function rateLimitHeaders(retryAfter: number, nowMs: number): Headers {
  return {
    "Retry-After": String(retryAfter),
    "X-RateLimit-Resource": "Core",
    "X-RateLimit-Delay": retryAfter.toFixed(3),
    "X-RateLimit-Limit": "200",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Reset": String(Math.ceil(nowMs / 1000) + retryAfter),
  };
}

function faultHeaders(rule: FaultRule, status: number | undefined, nowMs: number): Headers {
  let headers: Headers = {};
  if (status === 429 || rule.rateLimited === true) {
    headers = rateLimitHeaders(rule.retryAfter ?? 1, nowMs);
  } else if (rule.retryAfter !== undefined) {
    headers["Retry-After"] = String(rule.retryAfter);
  }
  return { ...headers, ...rule.headers };
}

function faultBody(status: number): unknown {
  if (status === 429) {
    // rule F7 [obs] A 429's message begins "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource …" (https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits; public clients match on TF400733, e.g. nkdAgility/azure-devops-migration-tools)
    return vssErrorBody(
      ERRORS.requestBlocked,
      "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'.",
    );
  }
  // rule F3 [guess] Any other injected status answers a VssServiceException body (a real 5xx from the front door may be HTML or empty)
  return status >= 400
    ? vssErrorBody(
        ERRORS.serviceError,
        `Injected fault: the emulator answers ${status} to this request.`,
      )
    : undefined;
}

/** What a matched rule does to the request. */
// rule F1 [guess] A fault without afterCommit answers before the request reaches the service: the write it stands in for never happens
// rule F5 [guess] A fault with afterCommit lets the write commit, then loses the answer (5xx, body or dropped connection): what a retry of a non-idempotent write meets in production (no public capture of the service's own behaviour)
// rule F4 [doc] Throttling delays requests before it answers 429, and Retry-After and X-RateLimit-* can come on HTTP 200: a rule with delayMs and rateLimited but no status slows the real answer and adds the headers ("The response still returns HTTP 200", https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits)
export function faultEffect(rule: FaultRule, nowMs: number): FaultEffect {
  const effect: FaultEffect = {
    delayMs: rule.delayMs ?? 0,
    drop: rule.drop === true,
    afterCommit: rule.afterCommit === true,
    extraHeaders: {},
  };
  const replaces = rule.status !== undefined || rule.body !== undefined || rule.text !== undefined;
  if (!replaces) {
    effect.extraHeaders = faultHeaders(rule, undefined, nowMs);
    return effect;
  }
  const status = rule.status ?? 200;
  const headers = faultHeaders(rule, status, nowMs);
  if (rule.text !== undefined) {
    effect.reply = {
      status,
      text: rule.text,
      contentType: rule.contentType ?? TEXT_CONTENT_TYPE,
      headers,
    };
  } else {
    const body = rule.body !== undefined ? rule.body : faultBody(status);
    effect.reply = body === undefined ? { status, headers } : { status, body, headers };
  }
  return effect;
}
