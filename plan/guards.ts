/**
 * What refuses a run outright, in every phase, before a resource is registered: the conditions
 * under which acting at all could lose a person, an identity or an organization. Each guard is a
 * pure function of plain facts that answers the operator's message, or nothing.
 */
import { ZERO_GUID } from "../devops/guid";
import type { Phase } from "../config/schema";
import { normalizeIdentity } from "../config/identity";
import { invitedTemporaryAddress, temporaryGuestIsOwn } from "./decisions";
import { identitiesAt, indexTenant } from "./match";
import type { PlanUser, TenantIdentity } from "./types";

/** The facts the guards read: the settings, the live organization and tenant, the stack's state. */
export interface GuardFacts {
  readonly phase: Phase;
  /** The configured organization, in its canonical (lower-case) form. */
  readonly organization: string;
  readonly tenantId: string;
  /** The configured temporary owner's address (normalized), when set. */
  readonly temporaryOwner?: string;
  /** The tenant the azuread provider is signed in to. */
  readonly signedInTenantId: string;
  /** The tenant the organization is on now; null when Microsoft-account backed. */
  readonly organizationTenantId: string | null;
  readonly ownerId: string;
  readonly users: readonly PlanUser[];
  readonly tenantUsers: readonly TenantIdentity[];
  /** What the stack's resources recorded (inventory/stack.ts). */
  readonly ledger: {
    readonly organizations: ReadonlySet<string>;
    readonly connectedTenant?: string;
    readonly temporaryOwner?: {
      readonly msaEmail: string;
      readonly userId?: string;
      readonly ownerBefore?: string;
      /** The tenant user its invitation recorded (object id). */
      readonly tenantUserId?: string;
      /** False when `msaEmail` is only what the invitation's output says (inventory/stack.ts). */
      readonly msaEmailConfirmed?: boolean;
    };
    readonly ownership?: { readonly ownerId: string; readonly previousOwnerId: string };
  };
}

export type Guard = (facts: GuardFacts) => string | undefined;

const key = (name: string): string => `devops-entra-connect:${name}`;

export const signedInTenant: Guard = (f) =>
  f.signedInTenantId === f.tenantId
    ? undefined
    : `The azuread provider is signed in to tenant ${f.signedInTenantId}, but ${key("tenantId")} is ${f.tenantId}. Set azuread:tenantId (or ARM_TENANT_ID) to the target tenant, or fix ${key("tenantId")}.`;

export const connectedElsewhere: Guard = (f) =>
  f.organizationTenantId === null || f.organizationTenantId === f.tenantId || f.phase === "prepare"
    ? undefined
    : `The organization is connected to tenant ${f.organizationTenantId}, not to ${f.tenantId}. Changing tenants loses Entra group permissions and can lock users out, and this program does not move organizations between tenants: find out who changed it and switch it back in the portal (Organization settings → Microsoft Entra).`;

export const connectedFirst: Guard = (f) =>
  (f.phase === "resolve" || f.phase === "cleanup") && f.organizationTenantId !== f.tenantId
    ? `${key("phase")} is ${f.phase}, but the organization is not connected to tenant ${f.tenantId} (it reports ${f.organizationTenantId ?? "no tenant"}). Run the connect phase first.`
    : undefined;

/**
 * One stack, one organization and one tenant. Another spelling of the same name is the same
 * organization (the program keeps one, lower-case form); another organization or tenant would make
 * Pulumi replace or delete what this stack holds: the ownership, the connection.
 */
export const sameOrganization: Guard = (f) => {
  const others = [...f.ledger.organizations].filter((o) => o !== f.organization);
  if (others.length > 0) {
    return `${key("organization")} is ${f.organization}, but this stack's resources are for ${others.join(", ")}. A stack migrates one organization: set it back, or use a new stack for ${f.organization}.`;
  }
  const tenant = f.ledger.connectedTenant;
  return tenant !== undefined && tenant !== f.tenantId && tenant !== ZERO_GUID
    ? `${key("tenantId")} is ${f.tenantId}, but this stack connected the organization to ${tenant}. The program never moves an organization between tenants: set it back.`
    : undefined;
};

/**
 * The temporary owner must be an account created for the migration: cleanup removes it from the
 * organization and deletes its tenant user. An address that is anyone's already, in the
 * organization or the tenant and in any state, is refused unless this stack's own resources
 * recorded it.
 */
export const temporaryOwnerIsNew: Guard = (f) => {
  const msa = f.temporaryOwner;
  const recorded = f.ledger.temporaryOwner;
  // Only an address the stack declared is its own; the invitation's output may be someone's mail.
  if (msa === undefined || (recorded?.msaEmail === msa && recorded.msaEmailConfirmed !== false)) {
    return undefined;
  }
  const user = f.users.find(
    (u) =>
      normalizeIdentity(u.principalName) === msa ||
      (u.mailAddress !== undefined && normalizeIdentity(u.mailAddress) === msa),
  );
  const identity = identitiesAt(indexTenant(f.tenantUsers), msa);
  const where = [
    ...(user ? [`a user of the organization (${user.principalName})`] : []),
    ...identity.map((i) => `an identity of the tenant (${i.userPrincipalName})`),
  ];
  return where.length === 0
    ? undefined
    : `${key("temporaryOwner")}.msaEmail ${msa} is already ${where.join(" and ")}, not an account this stack created; the cleanup phase would remove it. Create a new Microsoft account for the migration (https://signup.live.com) and configure that one. If this stack added it in a run that was cut off before the run recorded it, remove it where it is listed (Organization settings → Users; the tenant's Users in the Microsoft Entra admin center) and run again.`;
};

/**
 * The temporary owner pairing this stack created goes only in the cleanup phase: a changed or
 * removed `msaEmail` earlier would hand ownership back and remove the account mid-migration.
 * Before the connection, while the account owns nothing, removing `msaEmail` in `prepare` undoes
 * the pairing (its account was added, and its guest invited, by this stack).
 */
export const temporaryOwnerKept: Guard = (f) => {
  const recorded = f.ledger.temporaryOwner?.msaEmail;
  if (recorded === undefined || recorded === f.temporaryOwner || f.phase === "cleanup") {
    return undefined;
  }
  const held = heldAs(f);
  if (pairingUndoable(f)) return f.temporaryOwner === undefined ? undefined : undoFirst(held);
  const back =
    f.ledger.temporaryOwner?.msaEmailConfirmed === false ? "the address it invited" : recorded;
  return `This stack holds the temporary owner ${held}, but ${key("temporaryOwner")}.msaEmail is ${f.temporaryOwner ?? "not set"}. The pairing is undone only by the cleanup phase: set msaEmail back to ${back}, or run \`pulumi config set phase cleanup\` first.`;
};

/**
 * The temporary owner as the stack knows it. When only its invitation names it, the name is
 * Entra's record of the invited user (azuread rewrites it with the user's mail), which is someone
 * else's address when Entra answered with an existing user.
 */
function heldAs(f: GuardFacts): string {
  const t = f.ledger.temporaryOwner;
  if (t === undefined) return "";
  return t.msaEmailConfirmed === false
    ? `invited with an invitation whose user reads ${t.msaEmail} (an existing user's address, if Entra answered with one)`
    : t.msaEmail;
}

/** Before the connection, in `prepare`, with ownership never passed: nothing depends on the pairing. */
function pairingUndoable(f: GuardFacts): boolean {
  const temporary = f.ledger.temporaryOwner;
  return (
    f.phase === "prepare" &&
    f.organizationTenantId === null &&
    f.ledger.ownership === undefined &&
    (temporary?.userId === undefined || temporary.userId !== f.ownerId)
  );
}

const undoFirst = (recorded: string): string =>
  `This stack holds the temporary owner ${recorded}; to use another account, undo this pairing first: \`pulumi config rm --path ${key("temporaryOwner")}.msaEmail\` and \`pulumi up\` in the prepare phase (the account this stack added leaves the organization, and the guest it invited is deleted when it is the account's own, else only forgotten), then set the new msaEmail.`;

/**
 * Ownership with a temporary account this stack holds no record of: an interrupted run changed
 * the owner but its state never recorded it, or Azure DevOps applied an owner change after the run
 * that asked for it gave up waiting. The connect and resolve phases take it over: their ownership
 * resource adopts an owner change that is already made and records who gets ownership back
 * (providers/organizationOwner.ts), provided the stack recorded that owner. No other phase would
 * hand it back, so they refuse.
 */
export const ownershipRecorded: Guard = (f) => {
  const temporary = f.ledger.temporaryOwner;
  if (temporary?.userId !== f.ownerId || f.ledger.ownership?.ownerId === f.ownerId)
    return undefined;
  const original = f.users.find(
    (u) => u.id === temporary.ownerBefore && u.id !== f.ownerId,
  )?.principalName;
  if (original !== undefined && (f.phase === "connect" || f.phase === "resolve")) return undefined;
  const takeOver =
    original === undefined
      ? ""
      : `; or set ${key("phase")} back to ${f.organizationTenantId === f.tenantId ? "resolve" : "connect"} and run again, which takes the change over so that cleanup hands it back`;
  return `The organization is owned by the temporary account ${temporary.msaEmail}, but this stack holds no record of that change (an interrupted run, or an owner change Azure DevOps applied late), so the ${f.phase} phase would not hand it back. Hand ownership back in the portal (Organization settings → Overview → Owner) to ${original ?? "the original owner"}, then run again${takeOver}.`;
};

/**
 * The temporary owner's invitation must have created the temporary account's own guest. Entra
 * answers an invitation of an address that an existing user holds among its other addresses with
 * that user (docs/entra.md#existing-users): the program then keeps the invitation out of every
 * delete (plan/decisions.ts), and the phases that would act as the temporary owner refuse.
 */
export const temporaryOwnerGuestIsOwn: Guard = (f) => {
  const recorded = f.ledger.temporaryOwner;
  if (recorded?.tenantUserId === undefined || (f.phase !== "connect" && f.phase !== "resolve")) {
    return undefined;
  }
  const address = invitedTemporaryAddress(f.temporaryOwner, recorded);
  const index = indexTenant(f.tenantUsers);
  const identity = index.byObjectId.get(recorded.tenantUserId);
  if (identity === undefined || temporaryGuestIsOwn(index, recorded.tenantUserId, address)) {
    return undefined;
  }
  const undo =
    f.organizationTenantId === null
      ? `\`pulumi config rm --path ${key("temporaryOwner")}.msaEmail\` and \`pulumi up\` in the prepare phase`
      : "the cleanup phase";
  return `The temporary owner's invitation of ${address ?? recorded.msaEmail} was answered by Entra with an existing user of the tenant, ${identity.userPrincipalName}, not with a guest of its own (that user holds the address among its other e-mail addresses); the ${f.phase} phase would act as that user. This stack never deletes it: its invitation is kept out of every delete. Use a new Microsoft account for the migration: undo this pairing with ${undo} (the account this stack added leaves the organization; the invitation is forgotten, ${identity.userPrincipalName} stays), then configure the new account.`;
};

/** Every guard, in the order their messages are listed. */
export const GUARDS: readonly Guard[] = [
  signedInTenant,
  sameOrganization,
  connectedElsewhere,
  connectedFirst,
  temporaryOwnerIsNew,
  temporaryOwnerKept,
  temporaryOwnerGuestIsOwn,
  ownershipRecorded,
];

/** The messages of every guard that refuses the run; empty when none does. */
export function refusals(facts: GuardFacts): string[] {
  return GUARDS.flatMap((guard) => guard(facts) ?? []);
}
