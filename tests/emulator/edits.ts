/**
 * Test-side edits of the world: what happens outside the REST API (a person signs in, redeems an
 * invitation, creates a token; the tenant gains, loses or changes a user, as the azuread stand-in
 * does). Shared by the `Emulator` methods and the control endpoints; never logged as mutations.
 * Changes to the tenant go through {@link recordTenantEdit}: Azure DevOps may see them late.
 */
import { now, recordTenantEdit } from "./lag";
import type { State } from "./state";
import { samePrincipal } from "./state";
import {
  type TenantUser,
  type WorldUser,
  externalAddressOf,
  normalizeWorld,
  tokenPrincipal,
  validateTenantUser,
} from "./world";

/** A refused test-side edit; `status` is what the control endpoint answers. */
export class EditError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function nonEmpty(value: unknown, what: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new EditError(400, `${what} must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  return value;
}

// rule C1 [doc] A sign-in sets lastAccessedDate to now and makes a pending user active; a disabled user cannot sign in (memberEntitlementManagement-7.1.json lastAccessedDate "Date the member last accessed", AccountUserStatus pending; the disabled refusal is a guess)
export function signIn(state: State, principalName: unknown): WorldUser {
  const name = nonEmpty(principalName, "signIn: principalName");
  const user = state.world.users.find((u) => samePrincipal(u.principalName, name));
  if (user === undefined) {
    throw new EditError(404, `signIn: '${name}' is not a user of the organization`);
  }
  if (user.status === "disabled") {
    throw new EditError(409, `signIn: '${user.principalName}' is disabled and cannot sign in`);
  }
  user.lastAccessedDate = new Date(now(state)).toISOString();
  if (user.status === "pending") {
    user.status = "active";
  }
  return structuredClone(user);
}

/** The tenant user an address names: an exact UPN, then the mail, then a guest UPN's address. */
function tenantUserByAddress(users: TenantUser[], wanted: string): TenantUser | undefined {
  return (
    users.find((t) => t.userPrincipalName.toLowerCase() === wanted) ??
    users.find((t) => typeof t.mail === "string" && t.mail.toLowerCase() === wanted) ??
    users.find((t) => externalAddressOf(t.userPrincipalName) === wanted)
  );
}

// rule C2 [doc] Redeeming an invitation sets externalUserState Accepted; UPN and userType stay (https://learn.microsoft.com/entra/external-id/user-properties, PendingAcceptance before redemption)
export function redeem(state: State, address: unknown): TenantUser {
  const wanted = nonEmpty(address, "redeem: address").toLowerCase();
  return recordTenantEdit(state, () => {
    const user = tenantUserByAddress(state.world.tenant.users, wanted);
    if (user === undefined) {
      throw new EditError(
        404,
        `redeem: no tenant user has the UPN, mail or invited address '${wanted}'`,
      );
    }
    user.externalUserState = "Accepted";
    return structuredClone(user);
  });
}

// rule C3 [doc] Tenant users are unique by UPN and by object id; a duplicate is refused 409 (UPN uniqueness: https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname; control API only)
export function addTenantUser(state: State, raw: unknown): TenantUser {
  let user: TenantUser;
  try {
    user = validateTenantUser(raw, "user");
  } catch (err) {
    throw new EditError(400, `addTenantUser: ${(err as Error).message}`);
  }
  const tenant = normalizeWorld(state.world).tenant;
  if (tenant.users.some((t) => samePrincipal(t.userPrincipalName, user.userPrincipalName))) {
    throw new EditError(
      409,
      `addTenantUser: the tenant already has a user '${user.userPrincipalName}'`,
    );
  }
  const objectId = user.objectId?.toLowerCase();
  if (objectId !== undefined && tenant.users.some((t) => t.objectId === objectId)) {
    throw new EditError(
      409,
      `addTenantUser: the tenant already has a user with object id '${objectId}'`,
    );
  }
  recordTenantEdit(state, () => state.world.tenant.users.push(user));
  return structuredClone(user);
}

function tenantIndexByUpnOrMail(state: State, wanted: string): number {
  const users = state.world.tenant.users;
  const index = users.findIndex((t) => t.userPrincipalName.toLowerCase() === wanted);
  return index >= 0
    ? index
    : users.findIndex((t) => typeof t.mail === "string" && t.mail.toLowerCase() === wanted);
}

export function removeTenantUser(state: State, upnOrMail: unknown): TenantUser {
  const wanted = nonEmpty(upnOrMail, "removeTenantUser: upnOrMail").toLowerCase();
  const index = tenantIndexByUpnOrMail(state, wanted);
  if (index < 0) {
    throw new EditError(404, `removeTenantUser: no tenant user has the UPN or mail '${wanted}'`);
  }
  return recordTenantEdit(state, () => state.world.tenant.users.splice(index, 1)[0]);
}

const CHANGEABLE = [
  "userType",
  "accountEnabled",
  "externalUserState",
  "mail",
  "displayName",
  "globalAdministrator",
];

// rule C5 [doc] An administrator can change a tenant user's userType (guest to member), accountEnabled and other properties in place (Graph user update, https://learn.microsoft.com/graph/api/user-update)
/** Changes properties of the tenant user with that UPN, else that mail; returns a copy. */
export function updateTenantUser(state: State, upnOrMail: unknown, changes: unknown): TenantUser {
  const wanted = nonEmpty(upnOrMail, "updateTenantUser: upnOrMail").toLowerCase();
  const index = tenantIndexByUpnOrMail(state, wanted);
  if (index < 0) {
    throw new EditError(404, `updateTenantUser: no tenant user has the UPN or mail '${wanted}'`);
  }
  if (typeof changes !== "object" || changes === null || Array.isArray(changes)) {
    throw new EditError(400, "updateTenantUser: the changes must be an object");
  }
  const unknown = Object.keys(changes).filter((k) => !CHANGEABLE.includes(k));
  if (unknown.length > 0) {
    throw new EditError(
      400,
      `updateTenantUser: cannot change ${unknown.join(", ")} (allowed: ${CHANGEABLE.join(", ")})`,
    );
  }
  const current = state.world.tenant.users[index];
  let updated: TenantUser;
  try {
    updated = validateTenantUser({ ...current, ...changes }, "user");
  } catch (err) {
    throw new EditError(400, `updateTenantUser: ${(err as Error).message}`);
  }
  // In place: a test holding the entry sees the change too.
  recordTenantEdit(state, () => Object.assign(current, updated));
  return structuredClone(current);
}

// rule C4 [guess] A person creates a personal access token at any time; it authenticates as them from then on, even before they join the organization (a Microsoft account exists before it is added)
export function addToken(state: State, token: unknown, principalName: unknown): string {
  const value = nonEmpty(token, "addToken: token");
  const principal = nonEmpty(principalName, "addToken: principalName");
  if (!/^[^@\s]+@[^@\s]+$/.test(principal)) {
    throw new EditError(400, `addToken: principalName must be an address like name@domain`);
  }
  const tokens = (state.world.tokens ??= {});
  if (
    Object.prototype.hasOwnProperty.call(tokens, value) &&
    tokenPrincipal(tokens[value]) !== principal
  ) {
    throw new EditError(409, "addToken: that token already authenticates someone else");
  }
  tokens[value] = principal;
  return principal;
}
