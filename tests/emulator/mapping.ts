/**
 * Map / transfer a user's identity: `PATCH {org}/_apis/graph/users/{descriptor}` with a
 * GraphUserUpdateContext subtype (graph-7.1.json Users_Update). Checks in this order: media type
 * (415) and body (400), the user (404), permission (403), the organization's tenant (400), the
 * target identity (400), the identity it already has (400), then who else holds the target.
 */
import { ERRORS, HttpError } from "./errors";
import { type Context, type Reply, ReplyError, jsonObjectBody, mediaType } from "./http";
import { devopsTenantUsers, holdMapping } from "./lag";
import { type GraphView, graphSubjectNotFound, graphUser, userByDescriptor } from "./resources";
import {
  type State,
  behaviourOf,
  callerOf,
  isCollectionAdministrator,
  samePrincipal,
} from "./state";
import {
  type NormalizedTenantUser,
  type WorldUser,
  bindUser,
  findIdentity,
  findIdentityById,
  holdsIdentity,
  normalizeUser,
  signInNameOf,
} from "./world";

/** The target a GraphUserUpdateContext names. */
type MappingTarget = { principalName: string } | { originId: string };

const UPDATE_CONTEXT_EXAMPLE =
  '{"principalName": "destination@contoso.com"} (GraphUserPrincipalNameUpdateContext) or ' +
  '{"originId": "<Entra object id>"} (GraphUserOriginIdUpdateContext)';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function graphBadRequest(message: string): HttpError {
  return new HttpError(400, ERRORS.graphBadRequest, message);
}

// rule MP1 [guess] A body other than application/json answers 415 VssRequestContentTypeNotSupportedException (the type exists in VssApiResourceExceptions.cs; whether the route refuses other types is unknown)
// rule MP2 [obs] A body that is not an object, sets neither or both of principalName and originId, or has a non-address principalName or non-GUID originId answers 400 GraphBadRequestException (decompiled Azure DevOps Server 2022 GraphMembersControllerBase.UpdateMemberInternal: CannotParseParameter for a non-GUID originId, GraphUserMissingRequiredFields; the "both set" refusal is a guess)
function updateContext(ctx: Context): MappingTarget {
  const type = mediaType(ctx);
  if (type !== "application/json") {
    throw new HttpError(
      415,
      ERRORS.unsupportedMediaType,
      `The request content type '${type === "" ? "(none)" : type}' is not supported: send application/json.`,
    );
  }
  const body = jsonObjectBody(
    ctx,
    graphBadRequest,
    `The request body must be a GraphUserUpdateContext object, e.g. ${UPDATE_CONTEXT_EXAMPLE}.`,
  );
  // A JSON null deserializes like an absent property.
  const principalName = body.principalName ?? undefined;
  const originId = body.originId ?? undefined;
  if (principalName === undefined && originId === undefined) {
    throw graphBadRequest(
      `The GraphUserUpdateContext sets neither principalName nor originId: send exactly one, e.g. ${UPDATE_CONTEXT_EXAMPLE}.`,
    );
  }
  if (principalName !== undefined && originId !== undefined) {
    throw graphBadRequest(
      "The GraphUserUpdateContext sets both principalName and originId: send exactly one of them.",
    );
  }
  return principalName !== undefined ? principalTarget(principalName) : originTarget(originId);
}

function principalTarget(value: unknown): MappingTarget {
  if (typeof value !== "string") {
    throw graphBadRequest(
      `The value ${JSON.stringify(value)} of principalName is not valid: expected a string such as destination@contoso.com.`,
    );
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(value.trim())) {
    throw graphBadRequest(
      `The value '${value}' of principalName is not a valid principal name: expected an address such as destination@contoso.com.`,
    );
  }
  return { principalName: value.trim() };
}

function originTarget(value: unknown): MappingTarget {
  if (typeof value !== "string") {
    throw graphBadRequest(
      `The value ${JSON.stringify(value)} of originId is not valid: expected the Entra object id as a GUID string.`,
    );
  }
  if (!GUID.test(value.trim())) {
    throw graphBadRequest(
      `Cannot parse the value '${value}' of originId: expected a GUID (the object id of the Entra user).`,
    );
  }
  return { originId: value.trim().toLowerCase() };
}

// rule MP6 [obs] A target the tenant does not have answers 400 with a bare JSON string, CannotMaterializeGraphSubject (decompiled GraphMembersControllerBase.ParseMaterializeMemberResult, status NoResults; the wording is the emulator's); behaviour mappingUnknownTarget 404 answers IdentityNotFoundException instead (the emulator's former rule)
// rule MP11 [guess] A principalName target is looked up by UPN, mail or invited address (a member first), an originId by object id, and only in the tenant the organization is connected to (the service resolves an account name, then the directory)
function targetIdentity(state: State, target: MappingTarget): NormalizedTenantUser {
  const world = state.world;
  const tenant = devopsTenantUsers(state);
  // rule W5 [guess] The emulator models one tenant: an organization connected to another tenant sees no identities (a modelling choice)
  const ownTenant = world.tenantId !== null && samePrincipal(world.tenantId, world.tenant.id);
  const identity = !ownTenant
    ? undefined
    : "principalName" in target
      ? findIdentity(world, target.principalName, tenant)
      : findIdentityById(world, target.originId, tenant);
  if (identity !== undefined) return identity;
  const [name, value] =
    "principalName" in target
      ? ["principalName", target.principalName]
      : ["originId", target.originId];
  if (behaviourOf(state).mappingUnknownTarget === 404) {
    throw new HttpError(
      404,
      ERRORS.identityNotFound,
      `The identity '${value}' could not be found in the Microsoft Entra tenant '${world.tenantId}'.`,
    );
  }
  throw new ReplyError({
    status: 400,
    body: `Cannot materialize the graph subject with ${name} '${value}': no identity was found in the directory.`,
  });
}

/** Another organization user bound to the identity, or one (not "msa") already showing its sign-in name. */
function holderOf(
  users: readonly WorldUser[],
  user: WorldUser,
  identity: NormalizedTenantUser,
): { holder: WorldUser; bound: boolean } | undefined {
  const name = signInNameOf(identity).toLowerCase();
  let named: WorldUser | undefined;
  for (const u of users) {
    if (u === user) continue;
    if (holdsIdentity(u, identity)) return { holder: u, bound: true };
    // One pass over the users: the length test spares most of them a lower-casing.
    if (
      named === undefined &&
      u.origin !== "msa" &&
      u.principalName.length === name.length &&
      u.principalName.toLowerCase() === name
    ) {
      named = u;
    }
  }
  return named === undefined ? undefined : { holder: named, bound: false };
}

// rule MP7 [obs] Mapping onto an identity another organization user holds first deletes that user's entitlement and group memberships (the "scrub"), then transfers; behaviour mappingHolder "refuse" answers 400 InvalidTransferIdentityRightsRequestException "Identity with VSID … has active or inactive memberships in the account" and changes nothing, the path behind the service's ScrubBeforeTransfer.Disable flag (decompiled GraphMembersControllerBase.UpdateMemberInternal, DetermineAndRemoveExistingMembershipsInCollection, EnsureNoExistingMembershipsInCollection)
// rule MP12 [guess] The owner is never scrubbed (the mapping answers 400 GraphAccountNameCollisionRepairFailedException), nor an Entra-backed user only showing the target's sign-in name (409): the emulator cannot model an organization without an owner, or two Entra users of one name (the exception type is the decompiled server's)
function clearHolder(
  state: State,
  user: WorldUser,
  identity: NormalizedTenantUser,
  caller: string,
): void {
  const found = holderOf(state.world.users, user, identity);
  if (found === undefined) return;
  const { holder, bound } = found;
  const what = `the organization user '${holder.principalName}' ${bound ? "is bound to" : "has the sign-in name of"} that identity`;
  if (!bound) {
    throw new HttpError(
      409,
      ERRORS.identityAlreadyBound,
      `Cannot map the user '${user.principalName}' to the identity '${identity.userPrincipalName}' (object id ${identity.objectId}): ${what}.`,
    );
  }
  if (behaviourOf(state).mappingHolder === "refuse") {
    throw new HttpError(
      400,
      ERRORS.identityAlreadyBound,
      `Identity with VSID ${identity.objectId} has active or inactive memberships in the account (${what}).`,
    );
  }
  if (samePrincipal(state.world.owner, holder.principalName)) {
    throw new HttpError(
      400,
      ERRORS.scrubFailed,
      `Failed to scrub ${identity.userPrincipalName}: ${what}, and it owns the organization.`,
    );
  }
  scrub(state, holder, caller);
}

/** Removes a user's entitlement and memberships, Project Collection Administrators included. */
function scrub(state: State, holder: WorldUser, caller: string): void {
  const w = state.world;
  w.users.splice(w.users.indexOf(holder), 1);
  if (w.administrators !== undefined) {
    w.administrators = w.administrators.filter((a) => !samePrincipal(a, holder.principalName));
  }
  state.mutations.push({ kind: "scrubUser", value: holder.principalName, by: caller });
}

/** PATCH graph/users/{descriptor}: bind the user to another tenant identity. */
export function mapUser(state: State, ctx: Context): Reply {
  const target = updateContext(ctx);
  const world = state.world;
  const caller = callerOf(world, ctx);
  // rule MP5 [obs] An unknown descriptor answers 404 GraphSubjectNotFoundException, before any other check (decompiled GraphUsersController.UpdateUser reads the user first)
  const user = userByDescriptor(world.users, ctx.params.descriptor);
  if (user === undefined) {
    throw graphSubjectNotFound(ctx.params.descriptor);
  }
  // rule MP3 [obs] Only a Project Collection Administrator may map, else 403 AccessCheckException (decompiled CheckPermissionsToTransferIdentity, a collection-level Identities permission; the 403 and the PCA-only grant are guesses)
  if (!isCollectionAdministrator(world, caller)) {
    throw new HttpError(
      403,
      ERRORS.accessDenied,
      `Access Denied: ${caller} needs the following permission(s) on the resource Identity to perform this action: ` +
        `Manage identities. Only Project Collection Administrators can map users to another identity.`,
    );
  }
  // rule MP4 [obs] A mapping in an organization that is not connected answers 400 OrganizationNotLinkedToTenantException (decompiled UpdateMemberInternal reads GetOrganizationAadTenantId first; status and type are guesses)
  if (world.tenantId === null) {
    throw new HttpError(
      400,
      ERRORS.notConnected,
      `The organization '${world.organization}' is not connected to a Microsoft Entra tenant: users can only be ` +
        `mapped to identities of the tenant it is connected to. Connect it first.`,
    );
  }
  const identity = targetIdentity(state, target);
  const from = user.principalName;
  if (holdsIdentity(user, identity)) {
    // rule MP8 [obs] Mapping onto the identity the user already holds answers 400 GraphBadRequestException "Cannot transfer identity to itself"; behaviour mappingToItself "accept" answers success and changes nothing (decompiled UpdateMemberInternal)
    if (behaviourOf(state).mappingToItself === "refuse") {
      throw graphBadRequest("Cannot transfer identity to itself");
    }
  } else {
    clearHolder(state, user, identity, caller);
    holdMapping(state, user);
    bindUser(world, user, identity);
  }
  state.mutations.push({ kind: "mapUser", value: `${from} -> ${user.principalName}`, by: caller });
  return mappedAnswer(state, user, identity);
}

// rule MP9 [obs] A mapping answers 201 Created with the GraphUser and a Location header, though the spec lists 200 for Users_Update; behaviour mappingStatus 200 answers 200 without Location (decompiled GraphMembersControllerBase.CreateSuccessResponse; graph-7.1.json examples MaterializeAADUserByOID.json and CreateUserMSA.json answer 201 with location)
function mappedAnswer(state: State, user: WorldUser, identity: NormalizedTenantUser): Reply {
  const world = state.world;
  // graphUser looks a bound user's identity up by object id: that one identity is all it needs.
  const view: GraphView = {
    organization: world.organization,
    tenantId: world.tenantId,
    tenant: { id: world.tenant.id, domains: world.tenant.domains, users: [identity] },
  };
  const body = graphUser(view, normalizeUser(user), state.url);
  return behaviourOf(state).mappingStatus === 201
    ? { status: 201, body, headers: { Location: String(body.url) } }
    : { status: 200, body };
}
