import { externalAddressOfGuestUpn, normalizeIdentity } from "../config/identity";
import type { PlanUser, TenantIdentity } from "./types";

/** Tenant identities by every address they answer to (UPN, mail, and a guest UPN's external address). */
export type TenantIndex = ReadonlyMap<string, readonly TenantIdentity[]>;

/** Builds the lookup once: matching 10,000 users is then one map read each. */
export function indexTenant(users: readonly TenantIdentity[]): TenantIndex {
  const index = new Map<string, TenantIdentity[]>();
  const add = (k: string | undefined, u: TenantIdentity): void => {
    if (!k) return;
    const key = normalizeIdentity(k);
    const list = index.get(key);
    if (list === undefined) index.set(key, [u]);
    else if (!list.includes(u)) list.push(u);
  };
  for (const u of users) {
    add(u.userPrincipalName, u);
    add(u.mail, u);
    add(externalAddressOfGuestUpn(u.userPrincipalName), u);
  }
  return index;
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

export interface TenantMatch {
  /** The identity chosen: a member wins over a guest (the member is who they will sign in as). */
  readonly identity: TenantIdentity;
  /** Which of the user's addresses matched. */
  readonly by: string;
  /** More than one distinct tenant identity matched. */
  readonly ambiguous: boolean;
}

export function matchTenant(index: TenantIndex, user: PlanUser): TenantMatch | undefined {
  const found: { identity: TenantIdentity; by: string }[] = [];
  for (const address of addressesOf(user)) {
    for (const identity of index.get(address) ?? []) {
      if (!found.some((f) => f.identity === identity)) found.push({ identity, by: address });
    }
  }
  if (found.length === 0) return undefined;
  const best = found.find((f) => f.identity.kind === "member") ?? found[0];
  return { identity: best.identity, by: best.by, ambiguous: found.length > 1 };
}

/** The tenant identity an address answers to, preferring a member. */
export function identityAt(index: TenantIndex, address: string): TenantIdentity | undefined {
  const found = index.get(normalizeIdentity(address)) ?? [];
  return found.find((u) => u.kind === "member") ?? found[0];
}
