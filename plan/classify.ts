/**
 * What happens to each organization user: one pure decision per user, from the user, the tenant
 * and the operator's settings. The findings about users (plan/rules.ts) read the notes each
 * decision leaves. See docs/procedure.md#classification.
 */
import { domainOf, normalizeIdentity } from "../config/identity";
import { TenantIndex, UserMatch, addressesOf, identitiesAt, matchUser, signInName } from "./match";
import type { Category, PlanInput, PlanUser, PlannedUser, TenantIdentity } from "./types";

/** Something about one user that a finding rule reports. */
export type Note =
  /** Several tenant identities answer to the user's addresses: which one is theirs is unknown. */
  | { readonly kind: "ambiguous"; readonly identities: readonly string[] }
  /** The user's only identity is a disabled account. */
  | { readonly kind: "disabledIdentity"; readonly identity: string }
  /** Accepted as historic, yet the user has a tenant identity. */
  | { readonly kind: "acceptedWithIdentity" }
  /** An identity change whose target the tenant does not have. */
  | { readonly kind: "targetMissing"; readonly target: string }
  /** This stack invited the user, and the tenant no longer has the guest it recorded. */
  | { readonly kind: "invitedGuestGone" }
  /** This stack invited the user, and Entra answered with an existing user of other addresses. */
  | { readonly kind: "invitedAsOther"; readonly identity: string };

export interface Classified {
  readonly user: PlanUser;
  readonly planned: PlannedUser;
  readonly notes: readonly Note[];
  /**
   * The identity the user ends up bound to once connected and mapped: a tenant identity's object
   * id, or `invite:<address>` for a guest this stack invites; undefined for a user who stays a
   * Microsoft account. Two users with one outcome cannot both sign in as it.
   */
  readonly outcome?: string;
  /** True when the user answers to that identity today (bound already). */
  readonly holdsOutcome: boolean;
}

/** The reason of every `invite` entry, before and after the invitation exists. */
export const INVITED = "no identity in the tenant: invited as a B2B guest by this stack";

export const SUPPORT_TICKET =
  "open a Microsoft Support ticket (Problem type: Configuring Team Services; Category: Configuring with Azure Active Directory)";

/** The organization users, in a stable order: by normalized principal name, then id. */
export function ordered(users: readonly PlanUser[]): PlanUser[] {
  return [...users].sort(
    (a, b) =>
      normalizeIdentity(a.principalName).localeCompare(normalizeIdentity(b.principalName)) ||
      a.id.localeCompare(b.id),
  );
}

/** The context every user's decision reads. */
export interface ClassifyContext {
  readonly input: PlanInput;
  readonly index: TenantIndex;
  /** True once the organization reports the target tenant. */
  readonly connected: boolean;
  readonly verifiedDomains: ReadonlySet<string>;
}

export function contextOf(input: PlanInput, index: TenantIndex): ClassifyContext {
  return {
    input,
    index,
    connected: input.organizationTenantId === input.tenantId,
    verifiedDomains: new Set(input.tenant.verifiedDomains.map(normalizeIdentity)),
  };
}

/** Builds a planned entry for `user`. */
function entry(
  user: PlanUser,
  category: Category,
  action: string,
  reason: string,
  extra: Partial<Pick<PlannedUser, "tenantIdentity" | "mapping">> = {},
): PlannedUser {
  return {
    id: user.id,
    principalName: user.principalName,
    email: normalizeIdentity(user.principalName),
    ...(user.displayName ? { displayName: user.displayName } : {}),
    category,
    action,
    reason,
    ...extra,
  };
}

/** The identity an `aad` user is bound to: by its object id, else by its principal name. */
function boundIdentity(ctx: ClassifyContext, user: PlanUser): TenantIdentity | undefined {
  if (user.origin !== "aad") return undefined;
  const byId = user.originId ? ctx.index.byObjectId.get(user.originId.toLowerCase()) : undefined;
  if (byId) return byId;
  const found = identitiesAt(ctx.index, user.principalName);
  return found.length === 1 ? found[0] : undefined;
}

/** A mapping of `user` onto `identity`, done when the user answers to it already. */
function mapping(
  ctx: ClassifyContext,
  user: PlanUser,
  identity: TenantIdentity,
  reason: string,
): Classified {
  const to = signInName(identity);
  const done = boundIdentity(ctx, user)?.objectId === identity.objectId;
  const from =
    ctx.input.previouslyMapped.get(user.id)?.from ?? normalizeIdentity(user.principalName);
  const action = done
    ? "none: mapped"
    : ctx.connected
      ? `map to ${to}`
      : `map to ${to} in the resolve phase`;
  return {
    user,
    planned: entry(user, "mapAfterConnect", action, reason, {
      tenantIdentity: identity.userPrincipalName,
      mapping: { userId: user.id, from, to, originId: identity.objectId, done },
    }),
    notes: [],
    outcome: identity.objectId,
    holdsOutcome: done,
  };
}

const stays = (user: PlanUser, planned: PlannedUser, notes: Note[] = []): Classified => ({
  user,
  planned,
  notes,
  holdsOutcome: false,
});

/** True when the principal name is listed (exactly, in its normal form) in the setting. */
const listed = (set: ReadonlySet<string>, user: PlanUser): boolean =>
  set.has(normalizeIdentity(user.principalName));

/**
 * The decision for one user, in order: left out, mapped earlier by this stack, an identity change,
 * a tenant identity, accepted as historic, invited earlier, on the tenant's own domain, or invited.
 */
export function classifyUser(ctx: ClassifyContext, user: PlanUser): Classified {
  const input = ctx.input;
  if (listed(input.excludeUsers, user)) {
    return stays(
      user,
      entry(user, "excluded", "none: left out of the migration", "listed in excludeUsers"),
    );
  }
  const mapped = input.previouslyMapped.get(user.id);
  if (mapped !== undefined) {
    const identity = identitiesAt(ctx.index, mapped.to);
    if (identity.length === 1) {
      return mapping(ctx, user, identity[0], `mapped by this stack from ${mapped.from}`);
    }
  }
  const target = input.identityChanges.get(normalizeIdentity(user.principalName));
  if (target !== undefined) return identityChange(ctx, user, target);
  const match = matchUser(ctx.index, user);
  if (match.candidates.length > 0) return withIdentity(ctx, user, match);
  return withoutIdentity(ctx, user);
}

function identityChange(ctx: ClassifyContext, user: PlanUser, target: string): Classified {
  const found = identitiesAt(ctx.index, target).filter((i) => i.accountEnabled !== false);
  if (found.length === 1) {
    return mapping(
      ctx,
      user,
      found[0],
      `must end up as ${target} (identityChanges), which exists in the tenant`,
    );
  }
  if (found.length > 1) {
    return stays(
      user,
      entry(
        user,
        "supportTicket",
        "blocked: the new identity is ambiguous",
        `${target} names ${found.length} tenant identities`,
      ),
      [{ kind: "ambiguous", identities: found.map((i) => i.userPrincipalName) }],
    );
  }
  return stays(
    user,
    entry(
      user,
      "supportTicket",
      SUPPORT_TICKET,
      `must end up as ${target} (identityChanges), which does not exist in the tenant: create it (then it is mapped), or open a ticket and accept the user meanwhile`,
    ),
    [{ kind: "targetMissing", target }],
  );
}

/** A user whose addresses meet one or more tenant identities. */
function withIdentity(ctx: ClassifyContext, user: PlanUser, match: UserMatch): Classified {
  const bound = boundIdentity(ctx, user);
  if (bound !== undefined) return boundAlready(user, bound);
  const enabled = match.candidates.filter((i) => i.accountEnabled !== false);
  if (enabled.length > 1) {
    return stays(
      user,
      entry(
        user,
        "historic",
        "blocked: choose the identity with an identityChanges entry",
        `${enabled.length} tenant identities answer to this user's addresses`,
      ),
      [{ kind: "ambiguous", identities: enabled.map((i) => i.userPrincipalName) }],
    );
  }
  if (enabled.length === 0) {
    const disabled = match.candidates[0].userPrincipalName;
    return withoutIdentity(ctx, user, [{ kind: "disabledIdentity", identity: disabled }]);
  }
  const identity = enabled[0];
  const accepted = listed(ctx.input.acceptHistoricUsers, user);
  const notes: Note[] = accepted ? [{ kind: "acceptedWithIdentity" }] : [];
  // Bound at the connection only by its sign-in name; another address means a mapping afterwards.
  if (ctx.connected || match.binds?.objectId !== identity.objectId) {
    const c = mapping(
      ctx,
      user,
      identity,
      ctx.connected
        ? `disconnected after the connection; ${identity.userPrincipalName} has its address`
        : `${identity.userPrincipalName} has its address, but signs in as ${signInName(identity)}: the connection leaves the user disconnected`,
    );
    return { ...c, notes };
  }
  const upn = identity.userPrincipalName;
  const email = normalizeIdentity(user.principalName);
  const planned =
    identity.kind === "member"
      ? entry(user, "tenantMember", "none", `matches tenant member ${upn}`, { tenantIdentity: upn })
      : ctx.input.previouslyInvited.has(email)
        ? // Invited by this stack on an earlier run: the entry reads exactly as before the
          // invitation, so a preview after `up` (and after the invitee redeems) shows no change.
          entry(user, "invite", inviteAction(ctx), INVITED)
        : entry(user, "tenantGuest", "none", `already a guest in the tenant: ${upn}`, {
            tenantIdentity: upn,
          });
  return { user, planned, notes, outcome: identity.objectId, holdsOutcome: false };
}

/** A user the connection bound already (an `aad` user): nothing to do. */
function boundAlready(user: PlanUser, identity: TenantIdentity): Classified {
  const upn = identity.userPrincipalName;
  return {
    user,
    planned: entry(
      user,
      identity.kind === "member" ? "tenantMember" : "tenantGuest",
      "none",
      `bound to ${upn}`,
      { tenantIdentity: upn },
    ),
    notes: [],
    outcome: identity.objectId,
    holdsOutcome: true,
  };
}

const inviteAction = (ctx: ClassifyContext): string => `invite as ${ctx.input.invitationUserType}`;

/** A user without a usable tenant identity: accepted, invited (now or before), or historic. */
function withoutIdentity(ctx: ClassifyContext, user: PlanUser, notes: Note[] = []): Classified {
  const email = normalizeIdentity(user.principalName);
  if (listed(ctx.input.acceptHistoricUsers, user)) {
    return stays(
      user,
      entry(
        user,
        "acceptedHistoric",
        "none: becomes historic",
        "not in the tenant; accepted in acceptHistoricUsers",
      ),
      notes,
    );
  }
  if (email === "") {
    return stays(
      user,
      entry(user, "historic", "blocked: the user has no principal name", "no principal name"),
      notes,
    );
  }
  const fate = invitedUserFate(ctx.index, ctx.input.invitedUserIds?.get(email), email);
  if (fate !== undefined) return notTheInvitee(ctx, user, notes, fate);
  const disabled = notes.find((n) => n.kind === "disabledIdentity");
  if (
    disabled === undefined &&
    (ctx.input.previouslyInvited.has(email) || !ctx.verifiedDomains.has(domainOf(email)))
  ) {
    // Invited now, or earlier and not yet visible in the tenant.
    return {
      user,
      planned: entry(user, "invite", inviteAction(ctx), INVITED),
      notes,
      outcome: `invite:${email}`,
      holdsOutcome: false,
    };
  }
  return stays(
    user,
    entry(
      user,
      "historic",
      "blocked: create a member account for this address in the tenant, add an identityChanges entry, or list it in acceptHistoricUsers",
      disabled
        ? `its only tenant identity, ${disabled.identity}, is a disabled account`
        : `not in the tenant, and ${domainOf(email)} is one of the tenant's verified domains, so it cannot be invited as a B2B guest`,
    ),
    notes,
  );
}

/**
 * What became of the tenant user this stack's invitation of `email` recorded (its object id), when
 * that is not the invitee: `gone` when the tenant no longer has it (someone deleted the guest, or
 * `tenantId` changed since the invitation), `other` when it is an existing user who does not
 * answer to the address: Entra answers an invitation of an address that a user of the tenant
 * holds among its other addresses with that user (docs/entra.md#existing-users).
 */
export function invitedUserFate(
  index: TenantIndex,
  id: string | undefined,
  email: string,
): { readonly kind: "gone" } | { readonly kind: "other"; readonly identity: string } | undefined {
  if (id === undefined) return undefined;
  const identity = id === "" ? undefined : index.byObjectId.get(id);
  if (identity === undefined) return { kind: "gone" };
  return identitiesAt(index, email).includes(identity)
    ? undefined
    : { kind: "other", identity: identity.userPrincipalName };
}

const NOT_THE_INVITEE: Record<"gone" | "other", string> = {
  gone: "invited by this stack, but the guest it created is no longer in the tenant",
  other:
    "invited by this stack, but Entra answered with an existing user who does not answer to this address",
};

/**
 * A user whose invitation did not give them an identity of their own. Before the connection this
 * blocks it (the user would be left without a sign-in); after it the user is disconnected, and
 * reported so.
 */
function notTheInvitee(
  ctx: ClassifyContext,
  user: PlanUser,
  notes: Note[],
  fate: NonNullable<ReturnType<typeof invitedUserFate>>,
): Classified {
  const all: Note[] = [
    ...notes,
    fate.kind === "gone"
      ? { kind: "invitedGuestGone" }
      : { kind: "invitedAsOther", identity: fate.identity },
  ];
  const reason = NOT_THE_INVITEE[fate.kind];
  if (ctx.connected) {
    return stays(
      user,
      entry(
        user,
        "historic",
        "blocked: give the user an identity of their own (or an identityChanges entry), or accept them in acceptHistoricUsers",
        reason,
      ),
      all,
    );
  }
  return {
    user,
    planned: entry(
      user,
      "invite",
      "blocked: the invitation gave the user no identity of their own",
      reason,
    ),
    notes: all,
    outcome: `invite:${normalizeIdentity(user.principalName)}`,
    holdsOutcome: false,
  };
}

/** Every user's decision, in the stable order; addresses the plan never saw are not invented. */
export function classifyUsers(ctx: ClassifyContext): Classified[] {
  return ordered(ctx.input.users).map((u) => classifyUser(ctx, u));
}

/**
 * The config keys that name no organization user by principal name, and whose mail they are. An
 * identity change counts as matched once done: its key is a mapping this stack recorded, or its
 * target is a user's principal name now.
 */
export function unmatchedSettings(
  input: PlanInput,
): { setting: string; entry: string; mailOf?: string }[] {
  const principals = new Set(input.users.map((u) => normalizeIdentity(u.principalName)));
  const mappedFrom = new Set([...input.previouslyMapped.values()].map((m) => m.from));
  const changesDone = new Set(
    [...input.identityChanges]
      .filter(([from, to]) => mappedFrom.has(from) || principals.has(to))
      .map(([from]) => from),
  );
  const mails = new Map(
    input.users.flatMap((u) =>
      addressesOf(u)
        .slice(1)
        .map((m) => [m, u.principalName] as const),
    ),
  );
  const settings: [string, Iterable<string>][] = [
    ["excludeUsers", input.excludeUsers],
    ["acceptHistoricUsers", input.acceptHistoricUsers],
    ["identityChanges", [...input.identityChanges.keys()].filter((k) => !changesDone.has(k))],
  ];
  return settings.flatMap(([setting, keys]) =>
    [...keys]
      .filter((k) => !principals.has(k))
      .map((k) => ({ setting, entry: k, ...(mails.has(k) ? { mailOf: mails.get(k) } : {}) })),
  );
}
