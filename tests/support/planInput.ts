/**
 * One builder for what the plan's pure functions (plan/) read: the plan input, the guards' facts,
 * a plan for the decisions and the readiness check, the pairing's facts, a billing reading and the
 * facts of the manual steps. The defaults are the reference world's shape
 * (tests/fixtures/world.json): organization fabrikam on no tenant yet, the target tenant and its
 * verified domains, guests' UPNs at the tenant's initial domain, and an owner who signs in with a
 * Microsoft account whose address is also their member identity (so a temporary owner connects).
 * Each test overrides only what it is about.
 */
import type { BillingContext } from "../../plan/billing";
import type { RunFacts } from "../../plan/communication";
import type { PairingFacts } from "../../plan/decisions";
import type { GuardFacts } from "../../plan/guards";
import type { ReadinessInput, TenantStanding } from "../../plan/readiness";
import {
  type BillingReading,
  type Category,
  type MigrationPlan,
  type PlanInput,
  type PlannedUser,
  type PlanUser,
  type TenantIdentity,
  CATEGORIES,
} from "../../plan/types";
import { fixture } from "./fixture";

const world = fixture();

/** The reference world's organization and tenant. */
export const REFERENCE = {
  organization: world.organization,
  url: `https://dev.azure.com/${world.organization}`,
  tenantId: world.tenant.id,
  verifiedDomains: world.tenant.domains.map((d) => d.toLowerCase()),
  /** Where Entra writes guests' UPNs. */
  initialDomain: world.tenant.domains.find((d) => d.endsWith(".onmicrosoft.com")) as string,
  /** The run's date in the manual steps. */
  date: "2026-11-26",
} as const;

/** A tenant the organization must never be moved to. */
export const OTHER_TENANT = "11111111-2222-3333-4444-555555555555";

let nextId = 0;
/** An organization user, by default a Microsoft account with a fresh id. */
export function orgUser(principalName: string, extra: Partial<PlanUser> = {}): PlanUser {
  return { id: `u-${nextId++}`, principalName, origin: "msa", ...extra };
}

/** The reference world's owner. */
export const OWNER = orgUser(world.owner, { id: "u-owner" });
/** The temporary account created for the migration. */
export const TEMPORARY = orgUser("fabrikam-migration@outlook.com", { id: "u-temp" });

/** A member of the tenant, signing in as `upn`. */
export function member(upn: string, mail?: string): TenantIdentity {
  return {
    objectId: `o-${upn}`,
    userPrincipalName: upn,
    kind: "member",
    ...(mail ? { mail } : {}),
  };
}

/** A B2B guest of the tenant, invited at `address`, with the UPN Entra gives it. */
export function guest(address: string): TenantIdentity {
  const [alias, domain] = address.split("@");
  return {
    objectId: `o-${address}`,
    userPrincipalName: `${alias}_${domain}#EXT#@${REFERENCE.initialDomain}`,
    mail: address,
    kind: "guest",
  };
}

/** The owner: the user `ownerId` names, else the first listed. */
function ownerAmong(users: readonly PlanUser[], ownerId: string | undefined): PlanUser | undefined {
  return users.find((u) => u.id === ownerId) ?? (ownerId === undefined ? users[0] : undefined);
}

/**
 * The plan's input. `users` lists the organization's users, the owner first unless `ownerId` says
 * otherwise (default: the reference owner alone); the tenant holds, unless given, the owner as a
 * member.
 */
export function planInput(over: Partial<PlanInput> = {}): PlanInput {
  const users = over.users ?? [OWNER];
  const owner = ownerAmong(users, over.ownerId);
  return {
    organization: { name: REFERENCE.organization, url: REFERENCE.url },
    tenantId: REFERENCE.tenantId,
    phase: "prepare",
    organizationTenantId: null,
    ownerId: owner?.id ?? OWNER.id,
    users,
    projects: [],
    tenant: {
      users: owner ? [member(owner.principalName)] : [],
      verifiedDomains: REFERENCE.verifiedDomains,
    },
    identityChanges: new Map(),
    acceptHistoricUsers: new Set(),
    excludeUsers: new Set(),
    invitationUserType: "Guest",
    previouslyInvited: new Set(),
    previouslyMapped: new Map(),
    ...over,
  };
}

/** What a test changes in the guards' facts; `ledger` names only the records it is about. */
export type GuardFactsOverrides = Partial<Omit<GuardFacts, "ledger">> & {
  readonly ledger?: Partial<GuardFacts["ledger"]>;
};

/**
 * The guards' facts, from the same defaults as {@link planInput}: azuread signed in to the target
 * tenant, a new stack (its ledger empty), no temporary owner.
 */
export function guardFacts(over: GuardFactsOverrides = {}): GuardFacts {
  const input = planInput(over.users ? { users: over.users } : {});
  const { ledger, ...rest } = over;
  return {
    phase: "prepare",
    organization: input.organization.name,
    tenantId: input.tenantId,
    signedInTenantId: input.tenantId,
    organizationTenantId: input.organizationTenantId,
    ownerId: input.ownerId,
    users: input.users,
    tenantUsers: input.tenant.users,
    ...rest,
    ledger: { organizations: new Set(), ...ledger },
  };
}

/** A user as the plan decided it; its id and email derive from the principal name. */
export function plannedUser(
  principalName: string,
  category: Category,
  extra: Partial<PlannedUser> = {},
): PlannedUser {
  return {
    id: `u-${principalName}`,
    principalName,
    email: principalName.toLowerCase(),
    category,
    action: "",
    reason: "",
    ...extra,
  };
}

/** A plan with its summary counted from `users`; nothing found unless given. */
export function migrationPlan(over: Partial<MigrationPlan> = {}): MigrationPlan {
  const users = over.users ?? [];
  const summary = Object.fromEntries(
    CATEGORIES.map((c) => [c, users.filter((u) => u.category === c).length]),
  ) as Record<Category, number>;
  return {
    organization: REFERENCE.organization,
    tenantId: REFERENCE.tenantId,
    phase: "prepare",
    summary,
    users,
    blockers: [],
    warnings: [],
    notices: [],
    ...over,
  };
}

/** The pairing's facts: prepare, no temporary owner configured, nothing of it in the stack. */
export function pairingFacts(over: Partial<PairingFacts> = {}): PairingFacts {
  return { phase: "prepare", guestIsOwn: false, holdsInvitation: false, ...over };
}

/** An active member of the tenant, as `getUser` reports one. */
export const ACTIVE_MEMBER: TenantStanding = { kind: "member", accountEnabled: true };

/**
 * The readiness check's input: the owner connects with their own token (no temporary owner), they
 * are an active member, and `plan` is the plan of the defaults.
 */
export function readinessInput(over: Partial<ReadinessInput> = {}): ReadinessInput {
  return {
    plan: migrationPlan(),
    allowTfvc: false,
    currentOwner: { principalName: OWNER.principalName, id: OWNER.id },
    ownerStanding: ACTIVE_MEMBER,
    ownerToken: { id: OWNER.id, email: OWNER.principalName },
    temporaryOwner: { token: undefined },
    ...over,
  };
}

/** An Azure subscription that bills the organization. */
export const SUBSCRIPTION = "2b53247c-fb65-469e-a711-46e0c29d15a1";
/** The directory that subscription trusts, not the target tenant. */
export const BILLING_DIRECTORY = "0e3b7c2a-9d41-4f8e-b6a5-1c2d3e4f5a6b";

type BillingSetUp = Extract<BillingReading, { kind: "setUp" }>;

/** Billing by a subscription of another directory than the target tenant. */
export function billingInOtherDirectory(over: Partial<BillingSetUp> = {}): BillingSetUp {
  return {
    kind: "setUp",
    subscriptionId: SUBSCRIPTION,
    subscriptionTenantId: BILLING_DIRECTORY,
    ...over,
  };
}

/** What the billing findings know besides the reading: before the connection. */
export function billingContext(over: Partial<BillingContext> = {}): BillingContext {
  return {
    organization: REFERENCE.organization,
    targetTenantId: REFERENCE.tenantId,
    connected: false,
    ...over,
  };
}

/** The facts of the manual steps for `plan`: prepare, not connected, on the reference date. */
export function runFacts(plan: MigrationPlan, over: Partial<RunFacts> = {}): RunFacts {
  return {
    phase: "prepare",
    organization: REFERENCE.organization,
    tenantId: REFERENCE.tenantId,
    date: REFERENCE.date,
    plan,
    connected: false,
    ...over,
  };
}
