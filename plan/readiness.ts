import { organizationUrl } from "../devops/hosts";
import { normalizeIdentity } from "../config/identity";
import {
  type Finding,
  type FindingCode,
  MAPPING_BLOCKERS,
  type MigrationPlan,
  type TenantUserKind,
} from "./types";

/** What the tenant says about one identity (from `getUser`: exact `userType` and invitation state). */
export interface TenantStanding {
  readonly kind: TenantUserKind;
  /** `PendingAcceptance` until the invitee redeems; absent for non-invited accounts. */
  readonly externalUserState?: string;
  readonly accountEnabled: boolean;
}

/**
 * Who a configured token says it is ("who am I": its profile), or why that could not be asked. The
 * profile's id is the person's user id in the organization; its e-mail is the profile's preferred
 * address, which may differ from the sign-in name (docs/azure-devops-apis.md#profile).
 */
export type TokenIdentity =
  { readonly id: string; readonly email?: string } | { readonly error: string } | undefined;

/** An organization user a token must belong to: their sign-in name, and their user id once known. */
export interface ExpectedPerson {
  readonly principalName: string;
  readonly id?: string;
}

export interface ReadinessInput {
  readonly plan: MigrationPlan;
  readonly allowTfvc: boolean;
  /** The organization's current owner (undefined when not found). */
  readonly currentOwner?: ExpectedPerson;
  /** The current owner's standing in the tenant, when they match a tenant identity. */
  readonly ownerStanding?: TenantStanding;
  /** The owner's token (`devopsToken`): who it belongs to. */
  readonly ownerToken: TokenIdentity;
  readonly temporaryOwner: {
    /** Configured MSA address (normalized); undefined when not configured. */
    readonly msaEmail?: string;
    /** Standing of the invited temporary account in the tenant; undefined when not found there. */
    readonly standing?: TenantStanding;
    /** Whether it is a user of the organization (its user id), and whether it has signed in once. */
    readonly organizationUser?: { readonly id: string; readonly signedIn: boolean };
    /** Its token (`temporaryOwner.devopsToken`): who it belongs to. */
    readonly token: TokenIdentity;
  };
}

/**
 * The complete list of what stands between the organization and the connection
 * (docs/procedure.md#who-may-connect, #temporary-owner, #connect):
 * the plan's own blockers, adjusted for the chosen path (temporary owner or the owner), and the
 * preconditions users trip over — an invitation not redeemed, a new owner who never signed in, a
 * token that belongs to someone else. Reported in `prepare`; every one is fatal in `connect`.
 */
export function connectionBlockers(input: ReadinessInput): Finding[] {
  const viaTemporaryOwner = input.temporaryOwner.msaEmail !== undefined;
  const blockers = input.plan.blockers.filter((b) => !liftedBy(b, input, viaTemporaryOwner));
  const add: Add = (code, message, users) => {
    blockers.push(users ? { code, message, users } : { code, message });
  };
  if (viaTemporaryOwner) temporaryOwnerBlockers(input, add);
  else ownerBlockers(input, add);
  return blockers;
}

type Add = (code: FindingCode, message: string, users?: string[]) => void;

/** A plan blocker the chosen path makes moot. */
function liftedBy(b: Finding, input: ReadinessInput, viaTemporaryOwner: boolean): boolean {
  if ((b.code === "TFVC_IN_USE" || b.code === "TFVC_NOT_VERIFIED") && input.allowTfvc) return true;
  // With a temporary owner, the owner's own standing no longer decides who connects.
  return (
    viaTemporaryOwner &&
    (b.code === "TEMPORARY_OWNER_REQUIRED" || b.code === "OWNER_NOT_TENANT_MEMBER")
  );
}

/** The owner connects: their token, and their standing in the tenant. */
function ownerBlockers(input: ReadinessInput, add: Add): void {
  if (input.plan.blockers.some((b) => b.code === "TEMPORARY_OWNER_REQUIRED")) {
    add(
      "TEMPORARY_OWNER_NOT_CONFIGURED",
      "A temporary owner is needed but devops-entra-connect:temporaryOwner.msaEmail is not set. Create a Microsoft account at https://signup.live.com " +
        "(the `temporaryOwner.proposedMsaEmail` stack output proposes an address), then `pulumi config set --path temporaryOwner.msaEmail <address>` and run `pulumi up` in the prepare phase.",
    );
  }
  const owner = input.currentOwner;
  if (owner === undefined) return;
  identityCheck(
    add,
    "devopsToken",
    input.ownerToken,
    owner,
    "the organization owner, who performs the connection",
  );
  if (input.ownerStanding !== undefined)
    standingCheck(
      add,
      owner.principalName,
      input.ownerStanding,
      "CONNECTING_USER_NOT_ACTIVE_MEMBER",
    );
}

/**
 * The temporary owner connects: invited and redeemed, a user of the organization who signed in
 * once, its token its own, and the owner's token not the temporary account's.
 */
function temporaryOwnerBlockers(input: ReadinessInput, add: Add): void {
  const temporary = input.temporaryOwner;
  const msa = temporary.msaEmail as string;
  if (temporary.standing === undefined) {
    add(
      "TEMPORARY_OWNER_NOT_INVITED",
      `The temporary owner ${msa} is not in the tenant yet: run \`pulumi up\` in the prepare phase.`,
      [msa],
    );
  } else {
    standingCheck(add, msa, temporary.standing, "TEMPORARY_OWNER_INVITATION_NOT_REDEEMED");
  }
  if (temporary.organizationUser === undefined) {
    add(
      "TEMPORARY_OWNER_NOT_IN_ORGANIZATION",
      `The temporary owner ${msa} is not a user of the organization yet: run \`pulumi up\` in the prepare phase.`,
      [msa],
    );
  } else if (!temporary.organizationUser.signedIn) {
    add(
      "TEMPORARY_OWNER_NEVER_SIGNED_IN",
      `The temporary owner ${msa} has never signed in to ${organizationUrl(input.plan.organization)}; a new owner must have signed in once. Sign in with that account.`,
      [msa],
    );
  }
  const temporaryPerson: ExpectedPerson = {
    principalName: msa,
    ...(temporary.organizationUser ? { id: temporary.organizationUser.id } : {}),
  };
  identityCheck(
    add,
    "temporaryOwner.devopsToken",
    temporary.token,
    temporaryPerson,
    "the temporary owner, who performs the connection",
  );
  // The owner's token changes the owner; it must not be the temporary account's own.
  const ownerToken = input.ownerToken;
  if (ownerToken && "id" in ownerToken && isPerson(ownerToken, temporaryPerson)) {
    add(
      "TOKEN_IDENTITY_MISMATCH",
      `devopsToken belongs to the temporary owner ${msa}; it must belong to a Project Collection Administrator of the organization (the owner).`,
    );
  } else if (ownerToken && "error" in ownerToken) {
    add("TOKEN_IDENTITY_MISMATCH", `devopsToken could not be checked: ${ownerToken.error}`);
  }
}

function identityCheck(
  add: Add,
  key: string,
  token: TokenIdentity,
  expected: ExpectedPerson,
  role: string,
): void {
  const who = expected.principalName;
  if (token === undefined) {
    add(
      "TOKEN_IDENTITY_MISMATCH",
      `devops-entra-connect:${key} is not set; it must belong to ${who} (${role}).`,
    );
  } else if ("error" in token) {
    add(
      "TOKEN_IDENTITY_MISMATCH",
      `devops-entra-connect:${key} could not be checked: ${token.error}`,
    );
  } else if (!isPerson(token, expected)) {
    const owner = token.email ?? `the profile ${token.id}`;
    add(
      "TOKEN_IDENTITY_MISMATCH",
      `devops-entra-connect:${key} belongs to ${owner}, not to ${who} (${role}); configure that person's token.`,
    );
  }
}

/**
 * Whether a token belongs to a person: by user id once they are in the organization (the profile's
 * e-mail is only the preferred address), else by that address.
 */
function isPerson(
  token: { readonly id: string; readonly email?: string },
  p: ExpectedPerson,
): boolean {
  if (p.id !== undefined) return token.id.toLowerCase() === p.id.toLowerCase();
  return (
    token.email !== undefined &&
    normalizeIdentity(token.email) === normalizeIdentity(p.principalName)
  );
}

/** Today only an *active member* of the tenant may connect (docs/procedure.md#who-may-connect). */
function standingCheck(
  add: Add,
  who: string,
  standing: TenantStanding,
  pendingCode: FindingCode,
): void {
  if (standing.externalUserState === "PendingAcceptance") {
    add(
      pendingCode,
      `${who} has not redeemed the tenant invitation yet: open the invitation email (or the redeem link) and accept it.`,
      [who],
    );
  }
  if (standing.kind === "guest") {
    add(
      pendingCode === "TEMPORARY_OWNER_INVITATION_NOT_REDEEMED"
        ? "TEMPORARY_OWNER_IS_GUEST"
        : "CONNECTING_USER_NOT_ACTIVE_MEMBER",
      `${who} is a guest of the tenant; only active members may connect ("Only active members of the AAD tenant are allowed to perform the link"). A User Administrator can change its user type to Member in Entra.`,
      [who],
    );
  }
  if (!standing.accountEnabled) {
    add(
      "CONNECTING_USER_NOT_ACTIVE_MEMBER",
      `${who} is disabled in the tenant; enable the account.`,
      [who],
    );
  }
}

/**
 * The blockers that still stand in this state of the organization: before the connection, all of
 * them; after it, the connection's preconditions are history and only what guards the mappings
 * remains.
 */
export function standingBlockers(connected: boolean, blockers: readonly Finding[]): Finding[] {
  return connected ? blockers.filter((b) => MAPPING_BLOCKERS.includes(b.code)) : [...blockers];
}

/**
 * Whether standing blockers refuse this phase: `connect` before the connection (the irreversible
 * step), and `resolve` / `cleanup`, which map users. `prepare` only reports them.
 */
export function blockersRefuse(phase: string, connected: boolean): boolean {
  return phase === "connect" ? !connected : phase === "resolve" || phase === "cleanup";
}

/**
 * Blockers that say the user listing itself cannot be trusted (empty, or incomplete by its own
 * account). A run that acted on it would take the users it left out for gone: their invitations
 * would leave the stack, and the check that the temporary owner is nobody's account yet would not
 * see them. They refuse every phase, `prepare` included.
 */
export const INVENTORY_BLOCKERS: readonly FindingCode[] = [
  "EMPTY_ORGANIZATION",
  "INVENTORY_INCOMPLETE",
];

/** The standing blockers that refuse this phase: all of them, or those about the listing. */
export function refusingBlockers(
  phase: string,
  connected: boolean,
  blockers: readonly Finding[],
): Finding[] {
  return blockersRefuse(phase, connected)
    ? [...blockers]
    : blockers.filter((b) => INVENTORY_BLOCKERS.includes(b.code));
}
