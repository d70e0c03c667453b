/**
 * What the program declares in a phase, decided from the plan and the stack's state: who is
 * invited, what the temporary owner pairing holds, who connects, which users are mapped. Pure
 * functions over plain data; the components only turn these into resources.
 */
import type { Phase } from "../config/schema";
import { invitedUserFate } from "./classify";
import type { TenantIndex } from "./match";
import type { MigrationPlan, PlanUser } from "./types";

export interface Invitee {
  /** The address invited, normalized: also the invitation's name. */
  readonly email: string;
  readonly displayName?: string;
}

/**
 * One invitation per address: for every user to invite now, and every address this stack invited
 * before (its invitation stays in the program, even once the user is mapped or bound). The
 * temporary owner has its own invitation.
 */
export function invitees(
  plan: MigrationPlan,
  previouslyInvited: ReadonlySet<string>,
  temporaryOwner: string | undefined,
): Invitee[] {
  const seen = new Set<string>();
  const out: Invitee[] = [];
  for (const u of plan.users) {
    if (u.category !== "invite" && !previouslyInvited.has(u.email)) continue;
    if (u.email === temporaryOwner || u.email === "" || seen.has(u.email)) continue;
    seen.add(u.email);
    out.push({ email: u.email, ...(u.displayName ? { displayName: u.displayName } : {}) });
  }
  return out;
}

/**
 * Whether to propose an address for the temporary account (a random, stable alias kept in the
 * state): when the plan needs one, none is configured, and the organization is not connected yet.
 */
export function proposesTemporaryOwner(
  plan: MigrationPlan,
  temporaryOwner: string | undefined,
  connected: boolean,
): boolean {
  return (
    temporaryOwner === undefined &&
    !connected &&
    plan.blockers.some((b) => b.code === "TEMPORARY_OWNER_REQUIRED")
  );
}

/** What the temporary owner pairing holds in a phase. */
export type PairingStage =
  /** Invited and added to the organization: `prepare`. */
  | "member"
  /** And owner of the organization: `connect` and `resolve`. */
  | "owner"
  /**
   * Only its invitation, kept so that it is forgotten rather than deleted, when the pairing goes
   * and its tenant user is not verified to be the temporary account's own guest: already gone
   * (deleting an invitation whose user is gone fails, and would fail every later run), or an
   * existing user Entra answered the invitation with, whom deleting it would delete.
   */
  | "forgetInvitation"
  /**
   * Only its invitation, now deletable: when the pairing goes and its guest is verified own, but
   * the invitation was last registered kept out of deletes (a pairing given up after one run).
   */
  | "releaseInvitation";

export interface PairingFacts {
  readonly phase: Phase;
  readonly temporaryOwner?: string;
  /**
   * Whether the tenant user the stack's invitation recorded exists and is the temporary
   * account's own guest ({@link temporaryGuestIsOwn}): only then may deleting the invitation
   * delete it.
   */
  readonly guestIsOwn: boolean;
  /** The stack holds the pairing's invitation. */
  readonly holdsInvitation: boolean;
  /** The stage the stack's state recorded for the pairing last time, if any. */
  readonly recordedStage?: string;
  /**
   * Whether the invitation's last registration lets its delete delete the guest; undefined for a
   * state that does not say (an older release's, whose invitation always was).
   */
  readonly recordedGuestDeletable?: boolean;
}

/**
 * The stage the pairing is declared at, or undefined when it is not declared (it goes: in
 * `cleanup`, or when `msaEmail` was removed, which the guards allow only before the connection).
 * An invitation whose tenant user is not its own is declared once more, retained on delete, and
 * then left out: it leaves the state without a delete call. One whose user is its own but that was
 * last registered retained is declared once more, deletable, so that leaving deletes the guest.
 */
export function pairingStage(f: PairingFacts): PairingStage | undefined {
  if (f.phase === "cleanup" || f.temporaryOwner === undefined) {
    if (!f.holdsInvitation) return undefined;
    if (!f.guestIsOwn)
      return f.recordedStage === "forgetInvitation" ? undefined : "forgetInvitation";
    return f.recordedGuestDeletable === false ? "releaseInvitation" : undefined;
  }
  return f.phase === "connect" || f.phase === "resolve" ? "owner" : "member";
}

/**
 * Whether the tenant user the temporary owner's invitation recorded is the temporary account's own
 * guest: it exists and answers to the address invited. Unknown (no recorded user, no trustworthy
 * address) is not own: the invitation is then kept out of every delete.
 */
export function temporaryGuestIsOwn(
  index: TenantIndex,
  tenantUserId: string | undefined,
  address: string | undefined,
): boolean {
  if (tenantUserId === undefined || address === undefined) return false;
  return invitedUserFate(index, tenantUserId, address) === undefined;
}

/**
 * The address the temporary owner was invited at, as far as it can be trusted: the configured
 * one, else what the stack declared (not the invitation's output, which azuread rewrites).
 */
export function invitedTemporaryAddress(
  configured: string | undefined,
  recorded: { readonly msaEmail: string; readonly msaEmailConfirmed?: boolean } | undefined,
): string | undefined {
  return configured ?? (recorded?.msaEmailConfirmed !== false ? recorded?.msaEmail : undefined);
}

/**
 * Who gets ownership back at cleanup: the owner recorded when the temporary account was added,
 * else the current owner while it is not the temporary account itself.
 */
export function handBackTo(
  users: readonly PlanUser[],
  ownerId: string,
  recordedOwnerBefore: string | undefined,
  temporaryUserId: string | undefined,
): string | undefined {
  const id = recordedOwnerBefore ?? (ownerId !== temporaryUserId ? ownerId : undefined);
  return users.find((u) => u.id === id)?.principalName;
}

/** Only the owner may connect: the temporary owner, once ownership moved to it. */
export function connectingRole(
  phase: Phase,
  stage: PairingStage | undefined,
): "owner" | "temporaryOwner" {
  return phase === "connect" && stage === "owner" ? "temporaryOwner" : "owner";
}

export interface MappingDecision {
  readonly userId: string;
  readonly from: string;
  readonly to: string;
  readonly originId?: string;
}

/**
 * The mappings declared: in `resolve` and `cleanup` only, when the organization is connected (a
 * mapping needs the connection, and a token that works after it). Done ones stay declared.
 */
export function mappings(plan: MigrationPlan, phase: Phase, connected: boolean): MappingDecision[] {
  if (!connected || (phase !== "resolve" && phase !== "cleanup")) return [];
  return plan.users.flatMap((u) =>
    u.category === "mapAfterConnect" && u.mapping
      ? [
          {
            userId: u.mapping.userId,
            from: u.mapping.from,
            to: u.mapping.to,
            ...(u.mapping.originId ? { originId: u.mapping.originId } : {}),
          },
        ]
      : [],
  );
}
