/**
 * User entitlements (memberEntitlementManagement-7.1.json): list, get, add, delete. Refusals of an
 * add for a business reason answer HTTP 200 with `isSuccess:false`, as the service does.
 */
import { ERRORS, HttpError, badRequest } from "./errors";
import { entitlementFilter, entitlementOrder } from "./filter";
import { type Context, type Reply, asObject, jsonObjectBody, queryParam } from "./http";
import { addTenantUserSeenAtOnce, devopsTenantUsers, now, visibleUsers } from "./lag";
import { userEntitlement } from "./resources";
import {
  GUID,
  type State,
  ZERO_GUID,
  behaviourOf,
  callerOf,
  isCollectionAdministrator,
  samePrincipal,
} from "./state";
import {
  type License,
  type NormalizedUser,
  type NormalizedWorld,
  type TenantUser,
  type WorldUser,
  bindUser,
  defaultUserId,
  findIdentity,
  isOnTenantDomain,
  normalizeTenantUser,
  normalizeWorld,
} from "./world";

const LICENSES: readonly License[] = ["express", "stakeholder", "advanced", "none"];

/**
 * The world as the entitlement and graph reads show it now: late mappings show the identity a user
 * had, and the tenant is the one Azure DevOps sees (a user type changed in Entra shows late).
 */
export function readView(state: State): NormalizedWorld {
  const lagging = state.lag.pendingMappings.size > 0 || state.lag.tenantHistory.length > 0;
  if (!lagging) return normalizeWorld(state.world);
  const tenantUsers = devopsTenantUsers(state);
  return normalizeWorld({
    ...state.world,
    users: visibleUsers(state, state.world.users),
    tenant: { ...state.world.tenant, users: [...tenantUsers] },
  });
}

// rule P2 [guess] Continuation tokens are opaque; a foreign or garbled one answers 400 InvalidArgumentValueException (opacity: graph-7.1.json Users_List continuationToken "opaque data blob")
export function encodeToken(listing: string, offset: number): string {
  // Standard base64 (with '+', '/', '=') on purpose: a client that forgets to URL-encode it breaks.
  return Buffer.from(`${listing}:${offset}`, "utf8").toString("base64");
}

export function decodeToken(token: string | undefined, listing: string): number {
  if (token === undefined || token === "") {
    return 0;
  }
  const match = /^([a-z]+):(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
  if (match === null || match[1] !== listing) {
    throw badRequest(`The continuation token '${token}' is not valid for this request.`);
  }
  return Number(match[2]);
}

// rule P1 [doc] An entitlements page is {items, continuationToken, totalCount}; the token is null on the last page (memberEntitlementManagement-7.1.json PagedUserEntitlementsList "Can be null, if no more data exists"; the page size of 100 is a guess)
// rule P5 [guess] Each page is computed from the live world: adds and removes between pages shift the later ones
export function listEntitlements(state: State, ctx: Context): Reply {
  const w = readView(state);
  let users = w.users;
  const filter = queryParam(ctx.query, "$filter");
  if (filter !== undefined && filter.trim() !== "") {
    users = users.filter(entitlementFilter(filter, w));
  }
  const orderBy = queryParam(ctx.query, "$orderBy");
  if (orderBy !== undefined && orderBy.trim() !== "") {
    users = [...users].sort(entitlementOrder(orderBy));
  }
  const offset = decodeToken(queryParam(ctx.query, "continuationToken"), "entitlements");
  const next = offset + state.pageSize;
  return {
    status: 200,
    body: {
      items: users.slice(offset, next).map((u) => userEntitlement(w, u, state.url)),
      continuationToken: next < users.length ? encodeToken("entitlements", next) : null,
      totalCount: users.length,
    },
  };
}

// rule E7 [obs] GET /userentitlements/{id}: a non-GUID answers 400, an unknown id 404 MemberNotFoundException (404 → gone: microsoft/terraform-provider-azuredevops resource_user_entitlement.go; the type and the 400 are guesses)
export function findEntitlement(w: NormalizedWorld, id: string): NormalizedUser {
  if (!GUID.test(id)) {
    throw badRequest(`The user id '${id}' is not a valid GUID.`);
  }
  const user = w.users.find((u) => u.id === id.toLowerCase());
  if (user === undefined) {
    throw new HttpError(
      404,
      ERRORS.memberNotFound,
      `The member with id '${id}' could not be found in the organization.`,
    );
  }
  return user;
}

export function getEntitlement(state: State, ctx: Context): Reply {
  const w = readView(state);
  return { status: 200, body: userEntitlement(w, findEntitlement(w, ctx.params.id), state.url) };
}

// rule E8 [doc] DELETE answers 200 with no body; an unknown id 404; the user also leaves its groups, Project Collection Administrators included (memberEntitlementManagement-7.1.json User Entitlements_Delete responds 200; "removing the user from all project memberships"; the 404 follows microsoft/terraform-provider-azuredevops)
// rule E9 [guess] Deleting the current owner is refused 400: the organization must always have an owner
// rule E20 [guess] Only a Project Collection Administrator may delete a user, else 403 AccessCheckException
export function deleteEntitlement(state: State, ctx: Context): Reply {
  const user = findEntitlement(normalizeWorld(state.world), ctx.params.id);
  const caller = callerOf(state.world, ctx);
  if (!isCollectionAdministrator(state.world, caller)) {
    throw new HttpError(
      403,
      ERRORS.accessDenied,
      `Access Denied: ${caller} needs the following permission(s) on the resource Users to perform this action: Delete Users`,
    );
  }
  if (samePrincipal(state.world.owner, user.principalName) && user.id === ownerId(state)) {
    throw badRequest(
      `The user '${user.principalName}' owns the organization '${state.world.organization}' and cannot be removed; change the owner first.`,
    );
  }
  const index = normalizeWorld(state.world).users.findIndex((u) => u.id === user.id);
  state.world.users.splice(index, 1);
  if (
    state.world.administrators !== undefined &&
    !state.world.users.some((u) => samePrincipal(u.principalName, user.principalName))
  ) {
    state.world.administrators = state.world.administrators.filter(
      (a) => !samePrincipal(a, user.principalName),
    );
  }
  state.mutations.push({ kind: "removeUser", value: user.principalName, by: caller });
  return { status: 200 };
}

/** The id of the user the owner's principal name names (the first, when two share it). */
function ownerId(state: State): string | undefined {
  const w = normalizeWorld(state.world);
  return w.users.find((u) => samePrincipal(u.principalName, w.owner))?.id;
}

interface AddFailure {
  key: string;
  value: string;
}

// rule E11 [obs] A refused add answers HTTP 200 {isSuccess:false, userEntitlement:null, operationResult:{isSuccess:false, errors:[{key, value}], userId:0-GUID, result:null}} (microsoft/terraform-provider-azuredevops resource_user_entitlement.go addUserEntitlement; memberEntitlementManagement-7.1.json UserEntitlementsPostResponse)
function addFailure(failure: AddFailure): Reply {
  return {
    status: 200,
    body: {
      isSuccess: false,
      userEntitlement: null,
      operationResult: { isSuccess: false, errors: [failure], userId: ZERO_GUID, result: null },
    },
  };
}

/** The request's principal name and license, or the refusal the service answers. */
function readAddRequest(
  body: Record<string, unknown>,
): { principalName: string; license: License } | Reply {
  const user = asObject(body.user);
  const principalName = user?.principalName;
  // rule E10 [obs] An add without user.principalName answers HTTP 200 isSuccess:false, key 5000 "The Id, OriginId, or User.PrincipalName must be set. The Principal Name is usually an email address." (microsoft/terraform-provider-azuredevops#1384 and #1071)
  if (typeof principalName !== "string" || principalName.trim() === "") {
    return addFailure({
      key: "5000",
      value:
        "The Id, OriginId, or User.PrincipalName must be set. The Principal Name is usually an email address.",
    });
  }
  // rule E17 [guess] A subjectKind other than "user" answers HTTP 400
  if (user?.subjectKind !== undefined && String(user.subjectKind).toLowerCase() !== "user") {
    throw badRequest(
      `The value '${String(user.subjectKind)}' of user.subjectKind is not valid: expected 'user'.`,
    );
  }
  const accessLevel = asObject(body.accessLevel);
  const license = LICENSES.find((l) => l === String(accessLevel?.accountLicenseType).toLowerCase());
  const source = accessLevel?.licensingSource;
  // rule E12 [obs] A missing or unknown license, or a licensingSource other than account, answers isSuccess:false "Invalid license type." (Azure/azure-devops-cli-extension#545 and #810; the key 5000 is a guess; 5102 is the outside-directory refusal, microsoft/terraform-provider-azuredevops#1089)
  if (
    license === undefined ||
    (source !== undefined && String(source).toLowerCase() !== "account")
  ) {
    return addFailure({ key: "5000", value: "Invalid license type." });
  }
  // rule E13 [obs] A principal that is not an address answers key 5000 "Given email address '…' is invalid." (microsoft/terraform-provider-azuredevops#1071)
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(principalName)) {
    return addFailure({ key: "5000", value: `Given email address '${principalName}' is invalid.` });
  }
  return { principalName, license };
}

/** The B2B guest Azure DevOps invites into the tenant for an address from outside it. */
function inviteGuest(state: State, address: string): TenantUser {
  const domain =
    state.world.tenant.domains.find((d) => d.toLowerCase().endsWith(".onmicrosoft.com")) ??
    state.world.tenant.domains[0];
  const [alias, host] = address.toLowerCase().split("@");
  const guest: TenantUser = {
    userPrincipalName: `${alias}_${host}#EXT#@${domain}`,
    mail: address,
    userType: "Guest",
    externalUserState: "PendingAcceptance",
  };
  addTenantUserSeenAtOnce(state, guest);
  return guest;
}

// rule E15 [doc] In a connected organization an added address becomes the tenant's identity: an existing one is bound, an address from outside the tenant is invited as a B2B guest (aad, metaType guest) while the External guest access policy is on (behaviour externalGuestAccess) and refused key 5102 "You are trying to invite a user from outside your directory…" when it is off; in an MSA-backed organization the user is an msa (https://learn.microsoft.com/azure/devops/organizations/accounts/add-external-user; graph-7.1.json example CreateUserMSA.json; microsoft/terraform-provider-azuredevops#1384 and #1089)
// rule E19 [guess] An address on the tenant's own domain that the tenant does not have is refused key 5000
/** Binds a new user in a connected organization, or says why it cannot be added. */
function bindAddedUser(state: State, added: WorldUser): AddFailure | undefined {
  const world = state.world;
  const address = added.principalName;
  let identity = findIdentity(world, address, devopsTenantUsers(state));
  if (identity === undefined) {
    if (isOnTenantDomain(world, address)) {
      return { key: "5000", value: `The user '${address}' could not be found in the directory.` };
    }
    if (!behaviourOf(state).externalGuestAccess) {
      return {
        key: "5102",
        value:
          "You are trying to invite a user from outside your directory, but something went wrong. Please contact Azure DevOps support.",
      };
    }
    identity = normalizeTenantUser(inviteGuest(state, address), world.tenant.id);
  }
  world.users.push(added);
  bindUser(world, added, identity);
  return undefined;
}

/** POST userentitlements: malformed requests are HTTP 400; refusals are HTTP 200 + isSuccess:false. */
export function addEntitlement(state: State, ctx: Context): Reply {
  // rule E18 [guess] A body that is not a JSON object answers HTTP 400 InvalidArgumentValueException
  const body = jsonObjectBody(
    ctx,
    badRequest,
    "Value cannot be null. Parameter name: userEntitlement (the body must be a JSON object).",
  );
  const world = state.world;
  const caller = callerOf(world, ctx);
  // rule E16 [obs] An add by a caller who is not a Project Collection Administrator answers isSuccess:false key 5032 "Access Denied: … needs the following permission(s) on the resource Users to perform this action: Add Users" (microsoft/terraform-provider-azuredevops#86)
  if (!isCollectionAdministrator(world, caller)) {
    return addFailure({
      key: "5032",
      value: `Access Denied: ${caller} needs the following permission(s) on the resource Users to perform this action: Add Users`,
    });
  }
  const request = readAddRequest(body);
  if ("status" in request) return request;
  const { principalName, license } = request;
  // rule E14 [guess] A principal already in the organization answers key 5000 "already exists" (the service may return the existing entitlement instead)
  if (world.users.some((u) => samePrincipal(u.principalName, principalName))) {
    return addFailure({
      key: "5000",
      value: `The user '${principalName}' already exists in the organization.`,
    });
  }
  const added: WorldUser = {
    principalName,
    mailAddress: principalName,
    origin: "msa",
    license,
    // rule E21 [doc] An added user is pending and has no lastAccessedDate until it signs in (memberEntitlementManagement-7.1.json POST example: status pending)
    status: "pending",
    id: defaultUserId(principalName),
    dateCreated: new Date(now(state)).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
  if (world.tenantId !== null) {
    const refused = bindAddedUser(state, added);
    if (refused !== undefined) return addFailure(refused);
  } else {
    world.users.push(added);
  }
  state.mutations.push({ kind: "addUser", value: added.principalName, by: caller });
  const view = normalizeWorld(world);
  const normalized = view.users[world.users.indexOf(added)];
  const result = userEntitlement(view, normalized, state.url);
  return {
    status: 200,
    body: {
      isSuccess: true,
      userEntitlement: result,
      operationResult: { isSuccess: true, errors: [], userId: normalized.id, result },
    },
  };
}
