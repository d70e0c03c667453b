/**
 * The plan's findings, one small rule each, over the users' decisions (plan/classify.ts) and the
 * inventory. A rule answers the findings it sees: blockers stand between the organization and the
 * connection (and, for {@link MAPPING_BLOCKERS}, a mapping); warnings are for the operator to read.
 * See docs/procedure.md for the procedure each rule guards.
 */
import { normalizeIdentity } from "../config/identity";
import { Classified, ClassifyContext, SUPPORT_TICKET, unmatchedSettings } from "./classify";
import { UserMatch, addressesOf, matchUser } from "./match";
import type { Finding, FindingCode, PlanUser } from "./types";

/** Microsoft's portal resolves/maps disconnected users only up to this many (docs/limits.md). */
export const RESOLVE_LIMIT = 100;

export interface RuleFacts {
  readonly ctx: ClassifyContext;
  readonly users: readonly Classified[];
}

export type Rule = (facts: RuleFacts) => Finding[];

export function finding(code: FindingCode, message: string, users?: readonly string[]): Finding {
  return users === undefined ? { code, message } : { code, message, users };
}

/** The first few names, so a message about 5,000 users stays one readable line. */
export function preview(names: readonly string[], max = 10): string {
  return names.length <= max
    ? names.join(", ")
    : `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

const hasNote = (c: Classified, kind: string): boolean => c.notes.some((n) => n.kind === kind);
const namesWhere = (facts: RuleFacts, keep: (c: Classified) => boolean): string[] =>
  facts.users.filter(keep).map((c) => c.user.principalName);

/** One finding naming users, or none when no user qualifies. */
function about(
  code: FindingCode,
  names: readonly string[],
  message: (list: string) => string,
): Finding[] {
  return names.length === 0 ? [] : [finding(code, message(preview(names)), names)];
}

// --- blockers about users --------------------------------------------------------------------

const historic: Rule = (facts) => {
  const names = namesWhere(
    facts,
    (c) => c.planned.category === "historic" && !hasNote(c, "ambiguous") && c.planned.email !== "",
  );
  return facts.ctx.connected
    ? about(
        "DISCONNECTED_USERS_UNRESOLVED",
        names,
        (list) =>
          `${names.length} user(s) are disconnected and have no usable tenant identity: ${list}. Create their accounts (they are then mapped), or accept them in acceptHistoricUsers.`,
      )
    : about(
        "HISTORIC_USERS_NOT_ACCEPTED",
        names,
        (list) =>
          `${names.length} user(s) would become historic (no sign-in after the connection) and are not accepted by name: ${list}. Create their member accounts (or enable them), map them with identityChanges, or list them in acceptHistoricUsers.`,
      );
};

/**
 * Users whose invitation gave them no identity of their own: the guest is gone (deleted, or
 * invited into another tenant before `tenantId` changed), or Entra answered with an existing user
 * who holds the address among its other addresses. The connection would leave them without a
 * sign-in; after it they are disconnected users, reported as such.
 */
const invitationsWithoutIdentity: Rule = (facts) => {
  if (facts.ctx.connected) return [];
  const gone = namesWhere(facts, (c) => hasNote(c, "invitedGuestGone"));
  const other = facts.users.flatMap((c) =>
    c.notes.flatMap((n) =>
      n.kind === "invitedAsOther" ? [{ name: c.user.principalName, identity: n.identity }] : [],
    ),
  );
  return [
    ...about(
      "INVITED_GUESTS_NOT_IN_TENANT",
      gone,
      (list) =>
        `${gone.length} user(s) were invited by this stack, but the guests it created are no longer in the tenant: ${list}. Connecting now would leave them without a sign-in. If they were invited moments ago, Entra may not list them yet: run again in a few minutes. If tenantId changed since they were invited, set it back; if the guests were deleted, restore them in the Microsoft Entra admin center (Users → Deleted users, within 30 days), or accept the users in acceptHistoricUsers. To invite them again instead, forget their invitations with \`pulumi state delete <URN>\` (the URNs ending in guests-<address>, from \`pulumi stack --show-urns\`) and run prepare.`,
    ),
    ...about(
      "INVITATIONS_MATCHED_OTHER_USERS",
      other.map((o) => o.name),
      () =>
        `${other.length} invitation(s) were answered by Entra with an existing user of the tenant who holds the address among its other addresses, so the connection would not bind these users: ${preview(other.map((o) => `${o.name} → ${o.identity}`))}. If that user is the same person, map them with identityChanges; otherwise remove the address from that user's other e-mail addresses, forget the invitation (\`pulumi state delete <URN>\`) and run prepare again, or accept the user in acceptHistoricUsers.`,
    ),
  ];
};

const supportTickets: Rule = (facts) => {
  const names = namesWhere(
    facts,
    (c) => c.planned.category === "supportTicket" && !hasNote(c, "ambiguous"),
  );
  return about(
    "SUPPORT_TICKET_REQUIRED",
    names,
    (list) =>
      `${names.length} user(s) must change identity to an account that does not exist in the tenant, and would become historic: ${list}. Create those accounts (the program then maps them), or ${SUPPORT_TICKET} and move the users from identityChanges to acceptHistoricUsers meanwhile.`,
  );
};

const excludedStillThere: Rule = (facts) => {
  const names = namesWhere(facts, (c) => c.planned.category === "excluded");
  return facts.ctx.connected
    ? []
    : about(
        "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
        names,
        (list) =>
          `${names.length} excluded user(s) are still in the organization and would become historic at the connection: ${list}. Remove them from the organization first, or move them to acceptHistoricUsers.`,
      );
};

const unmatchedConfig: Rule = (facts) => {
  const entries = unmatchedSettings(facts.ctx.input).map(
    (u) =>
      `${u.setting}: ${u.entry}${u.mailOf ? ` (the mail of ${u.mailOf}: use that principal name)` : ""}`,
  );
  return about(
    "CONFIG_USERS_NOT_IN_ORGANIZATION",
    entries,
    (list) =>
      `${entries.length} configured user(s) name no organization user by principal name (a typo, an address that is only someone's mail, or a user already removed): ${list}. Fix or remove the entries.`,
  );
};

const duplicates: Rule = (facts) => {
  const seen = new Map<string, string[]>();
  for (const c of facts.users) {
    const key = normalizeIdentity(c.user.principalName);
    if (key === "") continue;
    seen.set(key, [...(seen.get(key) ?? []), c.user.principalName]);
  }
  const names = [...seen.values()].filter((n) => n.length > 1).flat();
  return about(
    "DUPLICATE_ORGANIZATION_USERS",
    names,
    (list) =>
      `${names.length} organization users share a principal name (case and Unicode forms aside): ${list}. Which of them the connection binds is unknown; remove the duplicates in Organization settings → Users.`,
  );
};

const withoutPrincipal: Rule = (facts) => {
  const ids = facts.users.filter((c) => c.planned.email === "").map((c) => c.user.id);
  return about(
    "USERS_WITHOUT_PRINCIPAL_NAME",
    ids,
    (list) =>
      `${ids.length} organization user(s) have no principal name or mail (user ids ${list}); they can be neither matched nor accepted. Check them in Organization settings → Users.`,
  );
};

const ambiguous: Rule = (facts) => {
  const details = facts.users.flatMap((c) =>
    c.notes.flatMap((n) =>
      n.kind === "ambiguous" ? [`${c.user.principalName} (${n.identities.join(", ")})`] : [],
    ),
  );
  const names = namesWhere(facts, (c) => hasNote(c, "ambiguous"));
  return about(
    "AMBIGUOUS_TENANT_MATCH",
    names,
    () =>
      `${names.length} user(s) answer to more than one tenant identity, so which one they end up as is not decided: ${preview(details)}. Choose each one's identity with an identityChanges entry, or remove the extra account in Entra.`,
  );
};

/** A tenant identity by sign-in name and object id; a planned invitation by its address. */
function identityLabel(outcome: string, group: readonly Classified[]): string {
  if (outcome.startsWith("invite:")) return outcome.slice("invite:".length);
  const upn = group.find((c) => c.planned.tenantIdentity !== undefined)?.planned.tenantIdentity;
  return upn === undefined ? outcome : `${upn} (object id ${outcome})`;
}

/**
 * One identity backs one organization user. Mapping a second user onto an identity makes the
 * service remove the first holder's entitlement and group memberships (docs/azure-devops-apis.md),
 * and two users cannot both sign in as one guest: every planned outcome must be unique.
 */
const sharedTargets: Rule = (facts) => {
  const byOutcome = new Map<string, Classified[]>();
  for (const c of facts.users) {
    if (c.outcome === undefined) continue;
    byOutcome.set(c.outcome, [...(byOutcome.get(c.outcome) ?? []), c]);
  }
  const shared: string[] = [];
  const held: string[] = [];
  for (const [outcome, group] of byOutcome) {
    // One person listed twice is DUPLICATE_ORGANIZATION_USERS, not two people on one identity.
    const principals = new Set(group.map((c) => normalizeIdentity(c.user.principalName)));
    if (group.length < 2 || principals.size < 2) continue;
    const holder = group.find((c) => c.holdsOutcome);
    const others = group.filter((c) => c !== holder).map((c) => c.user.principalName);
    const target = identityLabel(outcome, group);
    if (holder) held.push(`${preview(others)} → ${target} (held by ${holder.user.principalName})`);
    else shared.push(`${preview(others)} → ${target}`);
  }
  return [
    ...about(
      "MAPPING_TARGET_SHARED",
      shared,
      (list) =>
        `${shared.length} identit(ies) would back more than one organization user: ${list}. Give each user their own identity (identityChanges), or remove the duplicate user.`,
    ),
    ...about(
      "MAPPING_TARGET_HELD",
      held,
      (list) =>
        `${held.length} mapping(s) target an identity another organization user holds; Azure DevOps would remove that user's access to hand it over: ${list}. Map to a free identity, or remove the holder deliberately first.`,
    ),
  ];
};

// --- blockers about the organization ---------------------------------------------------------

const tenantConflict: Rule = ({ ctx }) => {
  const { organizationTenantId: current, tenantId } = ctx.input;
  if (current === null) return [];
  return current === tenantId
    ? [
        finding(
          "ALREADY_CONNECTED_TO_TARGET",
          `The organization is already connected to tenant ${tenantId}; there is nothing to connect. Users without a tenant identity are disconnected: invite or resolve them.`,
        ),
      ]
    : [
        finding(
          "CONNECTED_TO_OTHER_TENANT",
          `The organization is connected to another tenant (${current}), not ${tenantId}. Switching tenants loses Entra group permissions (docs/limits.md); disconnect or switch deliberately in the portal first.`,
        ),
      ];
};

const tfvc: Rule = ({ ctx }) => {
  const of = (kind: string): string[] =>
    ctx.input.projects
      .filter((p) => p.versionControl === kind)
      .map((p) => p.name)
      .sort();
  const used = of("tfvc");
  const unknown = of("unknown");
  return [
    ...about(
      "TFVC_IN_USE",
      used,
      (list) =>
        `${used.length} project(s) use or allow TFVC: ${list}. TFVC workspaces and shelvesets owned by Microsoft accounts become unusable after the connection; migrate them to Git or clean them up first (or set allowTfvc).`,
    ),
    ...about(
      "TFVC_NOT_VERIFIED",
      unknown,
      (list) =>
        `${unknown.length} project(s) did not say whether they allow TFVC (no version control capability in the answer): ${list}. Check them (Project settings → Repositories), then run again, or set allowTfvc.`,
    ),
  ];
};

const inventory: Rule = ({ ctx, users }) => {
  const problems = ctx.input.inventoryProblems ?? [];
  const findings: Finding[] = [];
  if (users.length === 0) {
    findings.push(
      finding(
        "EMPTY_ORGANIZATION",
        "The organization lists no users, yet it always has its owner: the token may not see all users (it needs User Entitlements read access as a Project Collection Administrator).",
      ),
    );
  }
  const rest = problems.filter((p) => !/returned no users/.test(p));
  if (rest.length > 0) {
    findings.push(
      finding(
        "INVENTORY_INCOMPLETE",
        `The organization's user listing is not complete, so users could be missed: ${rest.join("; ")}. Run again; if it persists, check the token's permissions.`,
      ),
    );
  }
  return findings;
};

// --- warnings --------------------------------------------------------------------------------

const targetsMissing: Rule = (facts) => {
  const names = namesWhere(facts, (c) => hasNote(c, "targetMissing"));
  return about(
    "IDENTITY_CHANGE_TARGET_MISSING",
    names,
    (list) => `The new identity of ${names.length} user(s) does not exist in the tenant: ${list}.`,
  );
};

const mappingsPlanned: Rule = (facts) => {
  const pending = facts.users.filter((c) => c.planned.mapping && !c.planned.mapping.done);
  const when =
    facts.ctx.connected && ["resolve", "cleanup"].includes(facts.ctx.input.phase)
      ? "by this run"
      : "in the resolve phase, after the connection";
  return about(
    "IDENTITY_MAPPINGS_PLANNED",
    pending.map((c) => c.user.principalName),
    () =>
      `${pending.length} user(s) will be mapped to their Entra identity ${when} (Graph user update; its behaviour in a real organization is unverified): ${preview(pending.map((c) => `${c.user.principalName} → ${c.planned.mapping?.to}`))}.`,
  );
};

const acceptedWithIdentity: Rule = (facts) => {
  const names = namesWhere(facts, (c) => hasNote(c, "acceptedWithIdentity"));
  return about(
    "ACCEPTED_USERS_HAVE_TENANT_IDENTITY",
    names,
    (list) =>
      `${names.length} user(s) in acceptHistoricUsers have a tenant identity and will not become historic: ${list}. Remove them from acceptHistoricUsers.`,
  );
};

const memberInvitations: Rule = ({ ctx, users }) =>
  ctx.input.invitationUserType === "Member" && users.some((c) => c.planned.category === "invite")
    ? [
        finding(
          "MEMBER_INVITATIONS_NEED_ADMIN",
          "invitation.userType is Member: inviting B2B members needs a User Administrator or Global Administrator (Guest Inviter is not enough).",
        ),
      ]
    : [];

const invitedLeft: Rule = ({ ctx, users }) => {
  const current = new Set(users.flatMap((c) => addressesOf(c.user)));
  const left = [...ctx.input.previouslyInvited].filter((e) => !current.has(e)).sort();
  return about(
    "INVITED_GUESTS_LEFT_ORGANIZATION",
    left,
    (list) =>
      `${left.length} guest(s) this stack invited are no longer organization users: ${list}. Their invitations leave the stack, but the guests stay in the tenant (invitations are never deleted); remove them in Entra if they should go.`,
  );
};

const manyUsers: Rule = ({ users }) =>
  users.length > RESOLVE_LIMIT
    ? [
        finding(
          "MORE_THAN_100_USERS",
          `The organization has ${users.length} users; above ${RESOLVE_LIMIT} the portal's "Resolve disconnected users" stops working and Microsoft Support must help. This program maps disconnected users itself in the resolve phase, at any number.`,
        ),
      ]
    : [];

/**
 * Who can connect (docs/procedure.md#who-may-connect): today only an active member of the tenant
 * who owns the organization, and not while signed in with a Microsoft account whose address equals
 * their Entra identity: the temporary-owner path.
 */
const owner: Rule = ({ ctx }) => {
  const input = ctx.input;
  if (input.organizationTenantId !== null) return []; // ownership rules only matter before connecting
  const owner: PlanUser | undefined = input.users.find((u) => u.id === input.ownerId);
  if (owner === undefined) {
    return [
      finding(
        "OWNER_NOT_FOUND",
        `The organization owner (${input.ownerId}) is not among the listed users, so who may connect cannot be checked: the listing may be incomplete. Run again; if it persists, check the token's permissions.`,
      ),
    ];
  }
  if (owner.origin !== "msa") return [];
  const match = matchUser(ctx.index, owner);
  if (match.binds?.kind === "member") {
    return [
      finding(
        "TEMPORARY_OWNER_REQUIRED",
        `The owner ${owner.principalName} signs in with a Microsoft account whose address equals their Entra identity, so they cannot perform the connection. A temporary Microsoft account must own the organization during the connection (docs/procedure.md#temporary-owner).`,
        [owner.principalName],
      ),
    ];
  }
  // A disabled account cannot sign in, let alone connect: only an enabled member counts.
  const member = match.candidates.find((i) => i.kind === "member" && i.accountEnabled !== false);
  return member
    ? []
    : [
        finding(
          "OWNER_NOT_TENANT_MEMBER",
          `The owner ${owner.principalName} is ${ownerStandingText(match.candidates)}; only active members may connect ("Only active members of the AAD tenant are allowed to perform the link"). Invite the owner with userType Member (needs an administrator) or use a temporary owner.`,
          [owner.principalName],
        ),
      ];
};

/** How the owner's tenant identities fall short of an enabled member, in words. */
function ownerStandingText(candidates: UserMatch["candidates"]): string {
  if (candidates.length === 0) return "not in the tenant";
  const disabled = candidates.find((i) => i.kind === "member" && i.accountEnabled === false);
  return disabled
    ? `a member of the tenant only as ${disabled.userPrincipalName}, a disabled account`
    : "only a guest in the tenant";
}

/** The rules whose findings block, in report order. */
export const BLOCKER_RULES: readonly Rule[] = [
  historic,
  invitationsWithoutIdentity,
  supportTickets,
  excludedStillThere,
  unmatchedConfig,
  duplicates,
  withoutPrincipal,
  ambiguous,
  sharedTargets,
  tenantConflict,
  tfvc,
  inventory,
  owner,
];

/** The rules whose findings are warnings, in report order. */
export const WARNING_RULES: readonly Rule[] = [
  targetsMissing,
  mappingsPlanned,
  acceptedWithIdentity,
  memberInvitations,
  invitedLeft,
  manyUsers,
];

/** Findings that read as warnings whichever rule produced them. */
export const WARNING_CODES: readonly FindingCode[] = [
  "ALREADY_CONNECTED_TO_TARGET",
  "DISCONNECTED_USERS_UNRESOLVED",
];
