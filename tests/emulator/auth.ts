/**
 * Who may call: credentials, personal access token scopes and lifetime, and what the service
 * answers a credential it does not take (a 401, its HTML sign-in page, or a redirect to it).
 */
import { ERRORS, HttpError, vssErrorBody } from "./errors";
import { type Context, type Credentials, type Reply, ReplyError } from "./http";
import { now, tenantHeaderValue } from "./lag";
import { behaviourOf, grantOf, type State, ZERO_GUID } from "./state";
import type { TokenGrant } from "./world";

/**
 * What a route needs of a token's scopes: any one of `scopes` (an OAuth requirement as the REST
 * specs list it), or "full" (a full-access token; for the undocumented endpoints).
 */
export type ScopeRequirement = { anyOf: readonly string[] } | "full";

const TITLE = "Azure DevOps Services | Sign In";

/** The page a browser is sent to sign in; what the API answers a refused credential with. */
export function signInPage(): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${TITLE}</title></head>` +
    `<body><h1>Sign in to Azure DevOps</h1><p>Sign in with your Microsoft account or your work or ` +
    `school account to continue.</p></body></html>`
  );
}

function signInUrl(state: State, ctx: Context): string {
  return `${state.url}/_signin?realm=dev.azure.com&reply_to=${encodeURIComponent(ctx.url)}&redirect=1`;
}

/** WWW-Authenticate and the tenant header of a 401 challenge. */
function challengeHeaders(state: State): Record<string, string | string[]> {
  const tenant = state.world.tenantId ?? "common";
  const headers: Record<string, string | string[]> = {
    "WWW-Authenticate": [
      `Bearer authorization_uri=https://login.microsoftonline.com/${tenant}`,
      `Basic realm="${state.url}/"`,
    ],
  };
  const header = tenantHeaderValue(state, ZERO_GUID);
  if (header !== undefined) headers["X-VSS-ResourceTenant"] = header;
  return headers;
}

// rule AU2 [obs] No credentials: 401 TF400813 "Resource not available for anonymous access. Client authentication required.", UnauthorizedRequestException, WWW-Authenticate Bearer authorization_uri and Basic realm, and X-VSS-ResourceTenant (microsoft/azure-pipelines-agent#1164)
export function anonymousChallenge(state: State): HttpError {
  return new HttpError(
    401,
    ERRORS.unauthorized,
    "TF400813: Resource not available for anonymous access. Client authentication required.",
    challengeHeaders(state),
  );
}

/** The answer to a credential the service does not take, by method and behaviour. */
function refusedCredential(state: State, ctx: Context): Reply {
  const mode = behaviourOf(state).refusedCredential;
  const pageMethods = ctx.method === "GET" || ctx.method === "POST";
  if (pageMethods && mode === "signInPage") {
    // rule T8 [obs] A GET or POST with a bad or expired credential answers 203 with Microsoft's HTML sign-in page, never JSON (MicrosoftDocs/vsts-rest-api-specs#97 and #574; microsoft/azure-devops-auth-samples#52)
    return { status: 203, text: signInPage(), contentType: "text/html; charset=utf-8" };
  }
  if (pageMethods && mode === "redirect") {
    // rule T9 [obs] Behaviour refusedCredential "redirect": the service answers 302 "Object moved" to its _signin page with realm and reply_to (MicrosoftDocs/azure-devops-docs#13661)
    const location = signInUrl(state, ctx);
    return {
      status: 302,
      headers: { Location: location },
      text: `<html><head><title>Object moved</title></head><body><h2>Object moved to <a href="${location}">here</a>.</h2></body></html>`,
      contentType: "text/html; charset=utf-8",
    };
  }
  // rule AU3 [obs] A PATCH with a bad or expired credential answers 401 JSON "TF400813: The user '' is not authorized to access this resource." (microsoft/azure-devops-auth-samples#52)
  // rule AU6 [guess] DELETE and the other methods answer a refused credential like PATCH; behaviour refusedCredential "unauthorized" answers GET and POST so too (the emulator's former rule)
  return {
    status: 401,
    headers: challengeHeaders(state),
    body: vssErrorBody(
      ERRORS.unauthorized,
      "TF400813: The user '' is not authorized to access this resource.",
    ),
  };
}

// rule AU9 [doc] A personal access token stops working when it expires (https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate)
function expired(state: State, grant: TokenGrant | undefined): boolean {
  return grant?.expiresAt !== undefined && Date.parse(grant.expiresAt) <= now(state);
}

// rule AU8 [doc] A scope grants its lesser forms: vso.x_manage includes vso.x_write and vso.x, vso.x_write includes vso.x (https://learn.microsoft.com/azure/devops/integrate/get-started/authentication/oauth#scopes)
function grantsScope(granted: readonly string[], needed: string): boolean {
  const rank = (scope: string): [string, number] => {
    const match = /^(.*?)(_write|_manage)?$/.exec(scope) as RegExpExecArray;
    return [match[1], match[2] === "_manage" ? 2 : match[2] === "_write" ? 1 : 0];
  };
  const [base, level] = rank(needed);
  return granted.some((g) => {
    const [gBase, gLevel] = rank(g);
    return gBase === base && gLevel >= level;
  });
}

function scopesAllow(grant: TokenGrant | undefined, requirement: ScopeRequirement): boolean {
  if (grant?.scopes === undefined) return true; // no scopes listed: full access
  if (requirement === "full") return false;
  return requirement.anyOf.some((scope) => grantsScope(grant.scopes ?? [], scope));
}

// rule AU4 [doc] A token with scopes may call an operation only with one of the scopes its spec's security section lists; a token with no scopes listed has full access (security sections of memberEntitlementManagement-7.1.json: vso.memberentitlementmanagement[_write]; graph-7.1.json: vso.graph, vso.graph_manage; core-7.1.json: vso.profile or vso.project; profile-7.1.json: vso.profile)
// rule AU7 [obs] A token lacking the scope answers 401 (pulumi/pulumi-azuredevops#68; edgafner/dorkag#107; rfennell/AzurePipelines#1420)
// rule AU10 [guess] The undocumented Organization and billing endpoints need a full-access token (no public source names their scopes)
/**
 * Authenticates the request: sets `ctx.token`, or throws the service's answer. `requirement`
 * undefined: any accepted token will do.
 */
export function authenticate(
  state: State,
  ctx: Context,
  credentials: Credentials,
  requirement: ScopeRequirement | undefined,
): void {
  if (credentials.token === undefined) {
    throw anonymousChallenge(state);
  }
  const tokens = state.world.tokens;
  const known =
    tokens === undefined || Object.prototype.hasOwnProperty.call(tokens, credentials.token);
  const grant = grantOf(state.world, credentials.token);
  if (!known || expired(state, grant)) {
    throw new ReplyError(refusedCredential(state, ctx));
  }
  if (requirement !== undefined && !scopesAllow(grant, requirement)) {
    throw new HttpError(
      401,
      ERRORS.unauthorized,
      `TF400813: The user is not authorized to access this resource: the personal access token lacks the scope ` +
        `${requirement === "full" ? "full access" : requirement.anyOf.join(" or ")}.`,
      challengeHeaders(state),
    );
  }
  ctx.token = credentials.token;
}
