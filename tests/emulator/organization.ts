/**
 * The undocumented Organization endpoints: changing the owner, connecting to and disconnecting from
 * a tenant. The order of the checks is the emulator's own: syntax of the request (400) first, as
 * model binding runs before the action, then permission (403), then lookups.
 */
import { ERRORS, HttpError, badRequest } from "./errors";
import { type Context, type Reply, asObject, mediaType, parseJsonBody } from "./http";
import { devopsTenantUsers, recordConnection, scheduleOwner } from "./lag";
import { collectionBody } from "./resources";
import {
  GUID,
  type State,
  ZERO_GUID,
  behaviourOf,
  callerOf,
  isCollectionAdministrator,
  samePrincipal,
  userByPrincipal,
} from "./state";
import {
  BindingConflict,
  type NormalizedTenantUser,
  bindMatchingUsers,
  isExternalUpn,
  normalizeTenantUser,
  normalizeWorld,
  tenantUsersMatching,
  tokenPrincipal,
} from "./world";

// rule O2 [obs] The Organization PATCHes take a one-operation JSON patch [{from:'', op:2 or "replace", path:/Owner or /TenantId (any case), value:<GUID>}] as application/json-patch+json or application/json; other media types 415, anything else 400 (body shape: GTRekter/Aetomatismos, Microsoft365DSC MSFT_ADOOrganizationOwner.psm1, simeoncloud SimeonInstaller.ps1; the strictness is the emulator's)
function patchedGuid(ctx: Context, field: string): string {
  const type = mediaType(ctx);
  if (type !== "application/json-patch+json" && type !== "application/json") {
    throw new HttpError(
      415,
      ERRORS.unsupportedMediaType,
      `The request content type '${type === "" ? "(none)" : type}' is not supported: send application/json-patch+json.`,
    );
  }
  const example = `[{"from":"","op":2,"path":"/${field}","value":"<guid>"}]`;
  const parsed = parseJsonBody(ctx);
  if ("error" in parsed) {
    throw badRequest(`The request body is not valid JSON: ${parsed.error}`);
  }
  if (!Array.isArray(parsed.value)) {
    throw badRequest(`The request body must be a JSON patch document (an array), e.g. ${example}.`);
  }
  if (parsed.value.length !== 1) {
    throw badRequest(
      `The JSON patch document must hold exactly one operation on /${field} (got ${parsed.value.length}), e.g. ${example}.`,
    );
  }
  const operation = asObject(parsed.value[0]);
  if (operation === undefined) {
    throw badRequest(`The JSON patch operation must be an object, e.g. ${example}.`);
  }
  const op = operation.op;
  if (op !== 2 && !(typeof op === "string" && op.toLowerCase() === "replace")) {
    throw badRequest(
      `The JSON patch operation ${JSON.stringify(op) ?? "(missing)"} is not supported on /${field}: only replace (op 2) is.`,
    );
  }
  if (typeof operation.path !== "string" || !samePrincipal(operation.path, `/${field}`)) {
    throw badRequest(
      `The JSON patch path ${JSON.stringify(operation.path) ?? "(missing)"} is not supported here: expected "/${field}".`,
    );
  }
  const value = operation.value;
  if (typeof value !== "string" || !GUID.test(value)) {
    throw badRequest(
      `The value ${JSON.stringify(value) ?? "(missing)"} of /${field} is not a valid GUID.`,
    );
  }
  return value.toLowerCase();
}

function accessDenied(message: string): HttpError {
  return new HttpError(403, ERRORS.accessDenied, message);
}

/** PATCH Organization/Collections/Me: change the owner. */
export function changeOwner(state: State, ctx: Context): Reply {
  const value = patchedGuid(ctx, "Owner");
  const caller = callerOf(state.world, ctx);
  // rule O3 [doc] Only Project Collection Administrators (the owner always is one) may change the owner, else 403 (https://learn.microsoft.com/azure/devops/organizations/accounts/change-organization-ownership; the 403 and its type are the emulator's)
  if (!isCollectionAdministrator(state.world, caller)) {
    throw accessDenied(
      `Access Denied: ${caller} needs the following permission(s) on the resource Organization to perform this ` +
        `action: Edit collection-level information. Only Project Collection Administrators can change the owner.`,
    );
  }
  const w = normalizeWorld(state.world);
  const next = w.users.find((u) => u.id === value);
  // rule O4 [guess] A new owner id that is not an organization user answers 404 IdentityNotFoundException
  if (next === undefined) {
    throw new HttpError(
      404,
      ERRORS.identityNotFound,
      `The identity '${value}' is not a user of the organization '${w.organization}'.`,
    );
  }
  // rule O5 [doc] A new owner must have signed in to the organization once, else 400 OrganizationOwnerNotActiveException ("Access the organization at least once", https://learn.microsoft.com/azure/devops/organizations/accounts/change-organization-ownership; the status and type are the emulator's)
  if (next.lastAccessedDate === undefined) {
    throw new HttpError(
      400,
      ERRORS.ownerNeverSignedIn,
      `The user '${next.principalName}' cannot become the owner: a new owner must have signed in to the organization at least once.`,
    );
  }
  applyOwnerChange(state, next.principalName);
  // A repeated transfer to the same owner is accepted and logged, so a test sees the repetition.
  state.mutations.push({ kind: "owner", value: next.principalName, by: caller });
  return { status: 200, body: collectionBody(normalizeWorld(state.world), state.world.tenantId) };
}

// rule O7 [guess] An accepted owner change takes effect at once and answers 200 with the collection; behaviour ownerChange makes it take effect ownerChangeDelayMs later ("delayed") or never ("ignored", still 200) (public tools only check for success: Microsoft365DSC, GTRekter/Aetomatismos)
// rule O6 [doc] The previous owner stays a Project Collection Administrator ("the old owner is not removed from the Project Collection Administrators group", https://learn.microsoft.com/azure/devops/organizations/accounts/change-organization-ownership)
function applyOwnerChange(state: State, to: string): void {
  const mode = behaviourOf(state).ownerChange;
  if (mode === "ignored") return;
  const previous = state.world.owner;
  if (
    !samePrincipal(previous, to) &&
    !isCollectionAdministrator({ ...state.world, owner: to }, previous)
  ) {
    (state.world.administrators ??= []).push(previous);
  }
  if (mode === "delayed") {
    scheduleOwner(state, to);
  } else {
    state.world.owner = to;
  }
}

/** A member (not a guest), enabled, whose invitation (if any) was redeemed. */
function isActiveMember(user: NormalizedTenantUser): boolean {
  return (
    user.userType === "Member" &&
    user.accountEnabled &&
    user.externalUserState !== "PendingAcceptance"
  );
}

/** The tenant as Azure DevOps sees it now (propagation delays included), normalized. */
function seenTenant(state: State): NormalizedTenantUser[] {
  return devopsTenantUsers(state).map((t) => normalizeTenantUser(t, state.world.tenant.id));
}

/** PATCH Organization/Organizations/Me: connect to a tenant, or disconnect (all-zero GUID). */
export function connectTenant(state: State, ctx: Context): Reply {
  const value = patchedGuid(ctx, "TenantId");
  const caller = callerOf(state.world, ctx);
  if (value === ZERO_GUID) {
    disconnect(state, caller);
  } else {
    connect(state, caller, value);
  }
  state.mutations.push({ kind: "tenant", value, by: caller });
  return { status: 200, body: collectionBody(normalizeWorld(state.world), state.world.tenantId) };
}

function connect(state: State, caller: string, tenantId: string): void {
  const w = state.world;
  // rule O9 [guess] Connecting a connected organization answers 400 OrganizationAlreadyLinkedToTenantException; the same PATCH never switches tenants (the portal greys Connect out once connected)
  if (w.tenantId !== null) {
    throw new HttpError(
      400,
      ERRORS.alreadyConnected,
      `The organization '${w.organization}' is already connected to the Microsoft Entra tenant '${w.tenantId}'.`,
    );
  }
  // rule O10 [guess] A tenant other than the world's answers 404 TenantNotFoundException
  if (tenantId !== w.tenant.id.toLowerCase()) {
    throw new HttpError(
      404,
      ERRORS.tenantNotFound,
      `The Microsoft Entra tenant '${tenantId}' could not be found.`,
    );
  }
  // rule O11 [doc] Only the current owner may connect, other callers 403 ("You aren't recognized as the organization Owner to manage directory connections", https://learn.microsoft.com/azure/devops/organizations/accounts/faq-azure-access; the current connect page asks only for a Project Collection Administrator)
  if (!samePrincipal(w.owner, caller)) {
    throw accessDenied(
      `Access Denied: only the owner of the organization '${w.organization}' can connect it to a Microsoft Entra tenant; ${caller} is not the owner.`,
    );
  }
  const tenant = seenTenant(state);
  // rule O12 [obs] The caller must be an active member of the tenant (userType Member, enabled, invitation redeemed), matched by UPN, mail or invited address, else 403 "Only active members of the AAD tenant are allowed to perform the link" (member requirement: https://learn.microsoft.com/azure/devops/organizations/accounts/connect-organization-to-azure-ad; message: MicrosoftDocs/azure-devops-docs#3642; accountEnabled and the matching are guesses)
  if (!tenantUsersMatching(tenant, caller).some(isActiveMember)) {
    throw new HttpError(
      403,
      ERRORS.notActiveTenantMember,
      "Only active members of the AAD tenant are allowed to perform the link",
    );
  }
  refuseMsaTwin(state, caller, tenant);
  const msaTokens = msaTokenValues(state);
  try {
    bindMatchingUsers(w, behaviourOf(state).connectBinding, devopsTenantUsers(state));
  } catch (err) {
    if (err instanceof BindingConflict) {
      throw new HttpError(400, ERRORS.duplicateIdentities, err.message);
    }
    throw err;
  }
  w.tenantId = tenantId;
  recordConnection(state, null);
  revokeTokens(state, msaTokens);
}

// rule O13 [guess] Connect refuses 400 MsaIdentityConflictException an owner on a Microsoft account whose address is the UPN of a native tenant identity; behaviour msaTwinRefusal turns it off (the 2018 procedure: "Is not using the Microsoft account identity that matches the Azure AD identity"; nothing shows the API enforces it, or with which status)
function refuseMsaTwin(
  state: State,
  caller: string,
  tenant: readonly NormalizedTenantUser[],
): void {
  if (!behaviourOf(state).msaTwinRefusal) return;
  const callerUser = userByPrincipal(state.world, caller);
  const twin = tenant.find(
    (t) => !isExternalUpn(t.userPrincipalName) && samePrincipal(t.userPrincipalName, caller),
  );
  if (callerUser?.origin === "msa" && twin !== undefined) {
    throw new HttpError(
      400,
      ERRORS.msaMatchesTenantIdentity,
      `The Microsoft account '${callerUser.principalName}' has the same address as the Microsoft Entra identity ` +
        `'${twin.userPrincipalName}': connect while signed in as another owner whose Microsoft account differs from ` +
        `every tenant identity, then transfer ownership back.`,
    );
  }
}

// rule O22 [guess] The connection leaves the personal access tokens of Microsoft accounts working; behaviour msaTokensAfterConnect "revoke" makes every token whose principal is an "msa" user when the connection happens stop working ("Reconfigure any personal access tokens (PATs) … if necessary", https://learn.microsoft.com/azure/devops/organizations/accounts/connect-organization-to-azure-ad)
function msaTokenValues(state: State): string[] {
  const tokens = state.world.tokens;
  if (tokens === undefined || behaviourOf(state).msaTokensAfterConnect !== "revoke") return [];
  return Object.entries(tokens)
    .filter(([, entry]) => userByPrincipal(state.world, tokenPrincipal(entry))?.origin === "msa")
    .map(([token]) => token);
}

function revokeTokens(state: State, values: readonly string[]): void {
  for (const value of values) {
    delete state.world.tokens?.[value];
  }
}

// rule O8 [doc] Disconnecting needs the owner on a Microsoft account and a caller whose Microsoft account is a Project Collection Administrator and a Global Administrator of the tenant ("Azure AD users can't disconnect organizations", https://learn.microsoft.com/azure/devops/organizations/accounts/disconnect-organization-from-azure-ad); behaviour disconnect "ownerOnly" lets any owner disconnect (the emulator's former rule)
// rule O18 [guess] Disconnecting a connection-less organization answers 400 OrganizationNotLinkedToTenantException; users bound to identities stay bound
function disconnect(state: State, caller: string): void {
  const w = state.world;
  if (behaviourOf(state).disconnect === "ownerOnly") {
    if (!samePrincipal(w.owner, caller)) {
      throw accessDenied(
        `Access Denied: only the owner of the organization '${w.organization}' can disconnect it from its Microsoft Entra tenant; ${caller} is not the owner.`,
      );
    }
  } else {
    refuseUndocumentedDisconnect(state, caller);
  }
  if (w.tenantId === null) {
    throw new HttpError(
      400,
      ERRORS.notConnected,
      `The organization '${w.organization}' is not connected to a Microsoft Entra tenant.`,
    );
  }
  const previous = w.tenantId;
  w.tenantId = null;
  recordConnection(state, previous);
}

function refuseUndocumentedDisconnect(state: State, caller: string): void {
  const w = state.world;
  const owner = userByPrincipal(w, w.owner);
  if (owner?.origin !== "msa") {
    throw accessDenied(
      `The organization '${w.organization}' cannot be disconnected while its owner '${w.owner}' is a Microsoft Entra ` +
        `identity: change the owner to a Microsoft account first.`,
    );
  }
  const callerUser = userByPrincipal(w, caller);
  if (callerUser?.origin !== "msa" || !isCollectionAdministrator(w, caller)) {
    throw accessDenied(
      `Access Denied: Microsoft Entra users can't disconnect organizations; ${caller} must be a Microsoft account in ` +
        `Project Collection Administrators.`,
    );
  }
  if (!tenantUsersMatching(seenTenant(state), caller).some((t) => t.globalAdministrator === true)) {
    throw accessDenied(
      `Access Denied: ${caller} must be a Global Administrator of the Microsoft Entra tenant '${w.tenant.id}' to disconnect the organization.`,
    );
  }
}
