/**
 * Which Microsoft Entra directory (tenant) an Azure subscription trusts, without any Azure
 * permission. Azure Resource Manager answers an unauthenticated `GET /subscriptions/{id}` with 401
 * and a Bearer challenge whose `authorization_uri` is the sign-in authority of the subscription's
 * tenant, e.g. `Bearer authorization_uri="https://login.windows.net/<tenant id>", error=
 * "invalid_token", error_description="…missing 'Authorization' header."` (docs/billing.md cites the
 * public evidence). When the challenge names no tenant, an ARM access token, if one is at hand,
 * asks the documented Subscriptions - Get, whose answer carries `tenantId`.
 *
 * This is not an Azure DevOps call: no Azure DevOps credential is ever sent here. The first request
 * carries no Authorization header at all; the second only an ARM token.
 */
import { isGuid } from "../devops/guid";
import { devopsUrl } from "../devops/hosts";
import {
  AttemptFailure,
  DEFAULT_RETRY_POLICY,
  RetryPolicy,
  isTransientStatus,
  parseRetryAfter,
  withRetry,
} from "../devops/retry";

export const subscriptionEndpoint = {
  host: "arm",
  path: (subscriptionId: string) => `/subscriptions/${subscriptionId}`,
  // Subscriptions - Get (https://learn.microsoft.com/en-us/rest/api/resources/subscriptions/get).
  apiVersion: "2022-12-01",
} as const;

export interface SubscriptionTenantOptions {
  /** Where the hosts are (`DEVOPS_API_BASE_URL` redirects ARM too); default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** An ARM access token, asked for only when the unauthenticated challenge names no tenant. */
  readonly armToken?: () => Promise<string>;
  readonly retry?: Partial<RetryPolicy>;
  readonly requestTimeoutMs?: number;
}

interface ArmAnswer {
  readonly status: number;
  readonly challenge: string | null;
  readonly text: string;
}

/** The tenant id (lower case) the subscription trusts; throws an Error naming the call and why. */
export async function subscriptionTenant(
  subscriptionId: string,
  opts: SubscriptionTenantOptions = {},
): Promise<string> {
  const path = subscriptionEndpoint.path(subscriptionId);
  const fail = (why: string): Error =>
    new Error(
      `Azure Resource Manager: find the directory of Azure subscription ${subscriptionId} (GET ${path}) failed: ${why}`,
    );
  if (!isGuid(subscriptionId)) throw fail("the subscription id is not a GUID");

  const anonymous = await armGet(path, undefined, opts, fail);
  if (anonymous.status !== 401) throw fail(unexpected(anonymous));
  const named = tenantFromChallenge(anonymous.challenge);
  if (named !== undefined) return named;

  const noTenant = `ARM answered 401 without a tenant in WWW-Authenticate's authorization_uri (got ${anonymous.challenge === null ? "no WWW-Authenticate header" : JSON.stringify(anonymous.challenge)})`;
  if (opts.armToken === undefined) {
    throw fail(
      `${noTenant}, and no ARM token is at hand. Sign in with \`az login\` (the program then asks with an ARM token), or look the subscription up in the Azure portal (Subscriptions → the subscription → its directory).`,
    );
  }
  let token: string;
  try {
    token = await opts.armToken();
  } catch (err) {
    throw fail(
      `${noTenant}, and no ARM token could be had: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  const signedIn = await armGet(path, token, opts, fail);
  if (signedIn.status === 200) {
    const tenantId = (parseJson(signedIn.text) as { tenantId?: unknown } | undefined)?.tenantId;
    if (isGuid(tenantId)) return tenantId.toLowerCase();
    throw fail(`ARM's answer carries no \`tenantId\` GUID: ${signedIn.text.slice(0, 200)}`);
  }
  const fromToken = signedIn.status === 401 ? tenantFromChallenge(signedIn.challenge) : undefined;
  if (fromToken !== undefined) return fromToken;
  throw fail(`with an ARM token: ${unexpected(signedIn)}`);
}

/**
 * The tenant named by a Bearer challenge's `authorization_uri` (quoted or not), e.g.
 * `https://login.windows.net/<tenant id>` or `https://login.microsoftonline.com/<tenant id>`;
 * undefined when there is none or it names no tenant GUID (`common`, a bare host).
 */
export function tenantFromChallenge(header: string | null | undefined): string | undefined {
  if (!header || !/^\s*Bearer\b/i.test(header)) return undefined;
  const uri = /authorization_uri\s*=\s*"?(https:\/\/[^\s",]+)/i.exec(header)?.[1];
  if (uri === undefined) return undefined;
  let segment: string | undefined;
  try {
    segment = new URL(uri).pathname.split("/").find((s) => s !== "");
  } catch {
    return undefined;
  }
  return isGuid(segment) ? segment.toLowerCase() : undefined;
}

/** One GET, retried on throttling, 5xx and dropped connections; any other answer is returned. */
function armGet(
  path: string,
  token: string | undefined,
  opts: SubscriptionTenantOptions,
  fail: (why: string) => Error,
): Promise<ArmAnswer> {
  const url = `${devopsUrl(subscriptionEndpoint.host, path, opts.env)}?api-version=${subscriptionEndpoint.apiVersion}`;
  const policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  return withRetry(
    async () => {
      let res: Response;
      try {
        res = await fetch(url, {
          headers: {
            Accept: "application/json",
            ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}),
          },
          redirect: "manual",
          signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 100_000),
        });
      } catch (err) {
        throw new Transient(fail(`network error: ${(err as Error).message}`));
      }
      const answer = {
        status: res.status,
        challenge: res.headers.get("www-authenticate"),
        text: await res.text(),
      };
      if (isTransientStatus(res.status)) {
        throw new Transient(
          fail(unexpected(answer)),
          parseRetryAfter(res.headers.get("retry-after")),
        );
      }
      return answer;
    },
    (err): AttemptFailure =>
      err instanceof Transient
        ? {
            error: err.error,
            transient: true,
            ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
          }
        : { error: err as Error, transient: false },
    policy,
  );
}

/** An attempt worth repeating; never leaves this module. */
class Transient {
  constructor(
    readonly error: Error,
    readonly retryAfterMs?: number,
  ) {}
}

/** ARM's error bodies are `{"error":{"code","message"}}`; otherwise the start of the text. */
function unexpected(answer: ArmAnswer): string {
  const error = (parseJson(answer.text) as { error?: { code?: unknown; message?: unknown } })
    ?.error;
  const detail =
    typeof error?.message === "string"
      ? `${error.message}${typeof error.code === "string" ? ` (${error.code})` : ""}`
      : answer.text.trim().slice(0, 200) || "no details";
  return `HTTP ${answer.status}: ${detail}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
