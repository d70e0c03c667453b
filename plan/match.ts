import { externalAddressOfGuestUpn, normalizeIdentity } from "../config/identity";
import type { PlanUser, TenantIdentity } from "./types";

/**
 * The address an identity signs in with, which the connection binds users by: a member's UPN; a
 * B2B guest's invited address (its mail, else the address inside its `#EXT#` UPN), since nobody
 * types a guest UPN. See docs/procedure.md#connect.
 */
export function signInName(identity: TenantIdentity): string {
  if (identity.kind === "guest" || externalAddressOfGuestUpn(identity.userPrincipalName)) {
    const invited = identity.mail ?? externalAddressOfGuestUpn(identity.userPrincipalName);
    if (invited) return normalizeIdentity(invited);
  }
  return normalizeIdentity(identity.userPrincipalName);
}

/** The tenant looked up three ways, built once: matching 10,000 users is then map reads. */
export interface TenantIndex {
  /** By sign-in name: who the connection binds a user with that principal name to. */
  readonly bySignIn: ReadonlyMap<string, readonly TenantIdentity[]>;
  /** By every address an identity answers to: UPN, mail, a guest UPN's invited address. */
  readonly byAddress: ReadonlyMap<string, readonly TenantIdentity[]>;
  readonly byObjectId: ReadonlyMap<string, TenantIdentity>;
}

export function indexTenant(users: readonly TenantIdentity[]): TenantIndex {
  const bySignIn = new Map<string, TenantIdentity[]>();
  const byAddress = new Map<string, TenantIdentity[]>();
  const byObjectId = new Map<string, TenantIdentity>();
  const add = (map: Map<string, TenantIdentity[]>, k: string | undefined, u: TenantIdentity) => {
    if (!k) return;
    const key = normalizeIdentity(k);
    const list = map.get(key);
    if (list === undefined) map.set(key, [u]);
    else if (!list.includes(u)) list.push(u);
  };
  for (const u of users) {
    add(bySignIn, signInName(u), u);
    add(byAddress, u.userPrincipalName, u);
    add(byAddress, u.mail, u);
    add(byAddress, externalAddressOfGuestUpn(u.userPrincipalName), u);
    byObjectId.set(u.objectId.toLowerCase(), u);
  }
  return { bySignIn, byAddress, byObjectId };
}

/** The addresses an organization user is known by: principal name first, then mail. */
export function addressesOf(user: PlanUser): string[] {
  const out = [normalizeIdentity(user.principalName)];
  if (user.mailAddress) {
    const mail = normalizeIdentity(user.mailAddress);
    if (!out.includes(mail)) out.push(mail);
  }
  return out.filter((a) => a !== "");
}

/** How one organization user meets the tenant. */
export interface UserMatch {
  /** The identity whose sign-in name is the user's principal name: the connection binds it. */
  readonly binds?: TenantIdentity;
  /** Every distinct identity one of the user's addresses belongs to (`binds` included). */
  readonly candidates: readonly TenantIdentity[];
}

export function matchUser(index: TenantIndex, user: PlanUser): UserMatch {
  const principal = normalizeIdentity(user.principalName);
  const signIn = index.bySignIn.get(principal) ?? [];
  const candidates: TenantIdentity[] = [...signIn];
  for (const address of addressesOf(user)) {
    for (const identity of index.byAddress.get(address) ?? []) {
      if (!candidates.includes(identity)) candidates.push(identity);
    }
  }
  return { ...(signIn.length === 1 ? { binds: signIn[0] } : {}), candidates };
}

/** Every tenant identity an address answers to. */
export function identitiesAt(index: TenantIndex, address: string): readonly TenantIdentity[] {
  const key = normalizeIdentity(address);
  const found = [...(index.bySignIn.get(key) ?? [])];
  for (const u of index.byAddress.get(key) ?? []) if (!found.includes(u)) found.push(u);
  return found;
}
