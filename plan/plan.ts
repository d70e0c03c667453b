import { domainOf, normalizeIdentity } from "../config/identity";
import { billingFindings } from "./billing";
import { addressesOf, identityAt, indexTenant, matchTenant } from "./match";
import {
  CATEGORIES,
  Category,
  Finding,
  FindingCode,
  MigrationPlan,
  PlanInput,
  PlanUser,
  PlannedUser,
  TenantIdentity,
} from "./types";

/** Microsoft's portal resolves/maps disconnected users only up to this many (DOMAIN §1.10). */
export const RESOLVE_LIMIT = 100;

/** The reason of every `invite` entry, before and after the invitation exists. */
const INVITED = "no identity in the tenant: invited as a B2B guest by this stack";

const SUPPORT_TICKET =
  "open a Microsoft Support ticket (Problem type: Configuring Team Services; Category: Configuring with Azure Active Directory)";

/**
 * Classifies every organization user and lists what stands in the way of the connection.
 * Pure: the same input always gives the same plan, users sorted by principal name.
 */
export function planMigration(input: PlanInput): MigrationPlan {
  const index = indexTenant(input.tenant.users);
  const verified = new Set(input.tenant.verifiedDomains.map(normalizeIdentity));
  const blockers: Finding[] = [];
  const warnings: Finding[] = [];
  const planned: PlannedUser[] = [];
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const ambiguous: string[] = [];
  const acceptedInTenant: string[] = [];
  const usedConfigKeys = new Set<string>();
  const connected = input.organizationTenantId === input.tenantId;
  const inviteAction = `invite as ${input.invitationUserType}`;

  const users = [...input.users].sort((a, b) =>
    normalizeIdentity(a.principalName).localeCompare(normalizeIdentity(b.principalName)),
  );
  for (const user of users) {
    const addresses = addressesOf(user);
    if (addresses.length === 0) continue;
    const key = addresses[0];
    if (seen.has(key)) {
      duplicates.push(user.principalName);
      continue;
    }
    seen.add(key);
    const configKey = (set: { has(k: string): boolean }): string | undefined =>
      addresses.find((a) => set.has(a));
    const email = normalizeIdentity(user.mailAddress || user.principalName);
    const base = {
      principalName: user.principalName,
      email,
      ...(user.displayName ? { displayName: user.displayName } : {}),
    };
    const push = (
      category: Category,
      action: string,
      reason: string,
      tenantIdentity?: string,
      mapping?: PlannedUser["mapping"],
    ): void => {
      planned.push({
        ...base,
        category,
        action,
        reason,
        ...(tenantIdentity ? { tenantIdentity } : {}),
        ...(mapping ? { mapping } : {}),
      });
    };
    /** Map to `identity` (by object id) once connected: now, in `resolve`, or as recorded. */
    const mapTo = (identity: TenantIdentity | undefined, to: string, reason: string): void => {
      const mapping = {
        userId: user.id,
        from: input.previouslyMapped.get(user.id)?.from ?? normalizeIdentity(user.principalName),
        to,
        ...(identity ? { originId: identity.objectId } : {}),
      };
      const done = user.origin === "aad" && addresses.includes(to);
      push(
        "mapAfterConnect",
        done ? "none: mapped" : connected ? `map to ${to}` : `map to ${to} in the resolve phase`,
        reason,
        identity?.userPrincipalName,
        mapping,
      );
    };
    const excludedKey = configKey(input.excludeUsers);
    if (excludedKey !== undefined) {
      usedConfigKeys.add(excludedKey);
      push("excluded", "none: left out of the migration", "listed in excludeUsers");
      continue;
    }

    const mapped = input.previouslyMapped.get(user.id);
    if (mapped !== undefined) {
      // Mapped by this stack earlier: the mapping stays in the program (no diff), even though the
      // user now answers to the new identity.
      for (const [from, to] of input.identityChanges)
        if (to === mapped.to) usedConfigKeys.add(from);
      mapTo(identityAt(index, mapped.to), mapped.to, `mapped by this stack from ${mapped.from}`);
      continue;
    }

    const changeKey = configKey(input.identityChanges);
    if (changeKey !== undefined) {
      usedConfigKeys.add(changeKey);
      const target = input.identityChanges.get(changeKey) as string;
      const identity = identityAt(index, target);
      if (identity !== undefined) {
        // The Graph user update maps it after the connection (DOMAIN §2), no support ticket.
        mapTo(
          identity,
          target,
          `must end up as ${target} (identityChanges), which exists in the tenant`,
        );
      } else {
        push(
          "supportTicket",
          SUPPORT_TICKET,
          `must end up as ${target} (identityChanges), which does not exist in the tenant: create it (then it is mapped), or open a ticket`,
        );
      }
      continue;
    }

    // An identity change done earlier (by hand or by another stack): the user is the target now.
    for (const [from, to] of input.identityChanges)
      if (addresses.includes(to)) usedConfigKeys.add(from);
    const match = matchTenant(index, user);
    const acceptedKey = configKey(input.acceptHistoricUsers);
    if (acceptedKey !== undefined) usedConfigKeys.add(acceptedKey);
    if (match !== undefined) {
      if (match.ambiguous) ambiguous.push(user.principalName);
      if (acceptedKey !== undefined) acceptedInTenant.push(user.principalName);
      const upn = match.identity.userPrincipalName;
      if (connected && user.origin === "msa") {
        // Connected, but this user is still a Microsoft account: the connection left it
        // disconnected (e.g. its guest was invited later). Map it to the identity with its address.
        mapTo(
          match.identity,
          signInName(match.identity),
          `disconnected after the connection; ${upn} has its address`,
        );
      } else if (match.identity.kind === "member") {
        push("tenantMember", "none", `matches tenant member ${upn} (by ${match.by})`, upn);
      } else if (input.previouslyInvited.has(email)) {
        // Invited by this stack on an earlier run: the invitation stays in the program, and the
        // entry reads exactly as before the invitation, so a preview after `up` (and after the
        // invitee redeems) shows no change, not even in the outputs.
        push("invite", inviteAction, INVITED);
      } else {
        push("tenantGuest", "none", `already a guest in the tenant: ${upn} (by ${match.by})`, upn);
      }
      continue;
    }

    if (acceptedKey !== undefined) {
      push(
        "acceptedHistoric",
        "none: becomes historic",
        "not in the tenant; accepted in acceptHistoricUsers",
      );
      continue;
    }
    if (input.previouslyInvited.has(email)) {
      push("invite", inviteAction, INVITED); // invited earlier, not yet visible in the tenant
      continue;
    }
    const domain = domainOf(email);
    if (verified.has(domain)) {
      push(
        "historic",
        "blocked: create a member account for this address in the tenant, add an identityChanges entry, or list it in acceptHistoricUsers",
        `not in the tenant, and ${domain} is one of the tenant's verified domains, so it cannot be invited as a B2B guest`,
      );
      continue;
    }
    push("invite", inviteAction, INVITED);
  }

  // --- findings about users -------------------------------------------------------------------
  const namesOf = (c: Category): string[] =>
    planned.filter((u) => u.category === c).map((u) => u.principalName);
  const historic = namesOf("historic");
  if (historic.length > 0 && connected) {
    warnings.push(
      finding(
        "DISCONNECTED_USERS_UNRESOLVED",
        `${historic.length} user(s) are disconnected and have no tenant identity: ${preview(historic)}. Create their accounts (they are then mapped), or accept them in acceptHistoricUsers.`,
        historic,
      ),
    );
  } else if (historic.length > 0) {
    blockers.push(
      finding(
        "HISTORIC_USERS_NOT_ACCEPTED",
        `${historic.length} user(s) would become historic (no sign-in after the connection) and are not accepted: ${preview(historic)}. Create their member accounts, map them with identityChanges, or list them in acceptHistoricUsers.`,
        historic,
      ),
    );
  }
  const tickets = planned.filter((u) => u.category === "supportTicket");
  if (tickets.length > 0) {
    warnings.push(
      finding(
        "SUPPORT_TICKET_REQUIRED",
        `${tickets.length} user(s) must change identity to an account that does not exist in the tenant: ${preview(tickets.map((u) => u.principalName))}. Create those accounts (the program then maps them), or ${SUPPORT_TICKET}.`,
        tickets.map((u) => u.principalName),
      ),
    );
    warnings.push(
      finding(
        "IDENTITY_CHANGE_TARGET_MISSING",
        `The new identity of ${tickets.length} user(s) does not exist in the tenant: ${preview(tickets.map((u) => u.principalName))}.`,
        tickets.map((u) => u.principalName),
      ),
    );
  }
  const mappings = planned.filter(
    (u) => u.category === "mapAfterConnect" && !u.action.startsWith("none"),
  );
  if (mappings.length > 0) {
    warnings.push(
      finding(
        "IDENTITY_MAPPINGS_PLANNED",
        `${mappings.length} user(s) will be mapped to their Entra identity ${connected ? "by this run" : "in the resolve phase, after the connection"} (Graph user update; its behaviour in a real organization is unverified): ${preview(mappings.map((u) => `${u.principalName} → ${u.mapping?.to}`))}.`,
        mappings.map((u) => u.principalName),
      ),
    );
  }
  const excluded = namesOf("excluded");
  if (excluded.length > 0) {
    warnings.push(
      finding(
        "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
        `${excluded.length} excluded user(s) are still in the organization and will become historic at the connection unless removed first: ${preview(excluded)}.`,
        excluded,
      ),
    );
  }
  if (acceptedInTenant.length > 0) {
    warnings.push(
      finding(
        "ACCEPTED_USERS_HAVE_TENANT_IDENTITY",
        `${acceptedInTenant.length} user(s) in acceptHistoricUsers have a tenant identity and will not become historic: ${preview(acceptedInTenant)}. Remove them from acceptHistoricUsers.`,
        acceptedInTenant,
      ),
    );
  }
  const unknownConfig = [
    ...[...input.excludeUsers]
      .filter((k) => !usedConfigKeys.has(k))
      .map((k) => `excludeUsers: ${k}`),
    ...[...input.acceptHistoricUsers]
      .filter((k) => !usedConfigKeys.has(k))
      .map((k) => `acceptHistoricUsers: ${k}`),
    ...[...input.identityChanges.keys()]
      .filter((k) => !usedConfigKeys.has(k))
      .map((k) => `identityChanges: ${k}`),
  ];
  if (unknownConfig.length > 0) {
    warnings.push(
      finding(
        "CONFIG_USERS_NOT_IN_ORGANIZATION",
        `${unknownConfig.length} configured user(s) are not in the organization (typo, or already removed): ${preview(unknownConfig)}.`,
        unknownConfig,
      ),
    );
  }
  const invites = planned.filter((u) => u.category === "invite");
  if (invites.length > 0 && input.invitationUserType === "Member") {
    warnings.push(
      finding(
        "MEMBER_INVITATIONS_NEED_ADMIN",
        "invitation.userType is Member: inviting B2B members needs a User Administrator or Global Administrator (Guest Inviter is not enough).",
      ),
    );
  }
  const current = new Set(planned.map((u) => u.email));
  const leftOrganization = [...input.previouslyInvited].filter((e) => !current.has(e)).sort();
  if (leftOrganization.length > 0) {
    warnings.push(
      finding(
        "INVITED_GUESTS_LEFT_ORGANIZATION",
        `${leftOrganization.length} guest(s) this stack invited are no longer organization users: ${preview(leftOrganization)}. Their invitations leave the stack, but the guests stay in the tenant (invitations are never deleted); remove them in Entra if they should go.`,
        leftOrganization,
      ),
    );
  }
  if (duplicates.length > 0) {
    warnings.push(
      finding(
        "DUPLICATE_ORGANIZATION_USERS",
        `${duplicates.length} organization user(s) appear more than once (case-insensitive); planned once: ${preview(duplicates)}.`,
        duplicates,
      ),
    );
  }
  if (ambiguous.length > 0) {
    warnings.push(
      finding(
        "AMBIGUOUS_TENANT_MATCH",
        `${ambiguous.length} user(s) match more than one tenant identity; the member was chosen: ${preview(ambiguous)}. Check them in Entra.`,
        ambiguous,
      ),
    );
  }

  // --- findings about the organization --------------------------------------------------------
  if (input.organizationTenantId !== null) {
    if (input.organizationTenantId === input.tenantId) {
      warnings.push(
        finding(
          "ALREADY_CONNECTED_TO_TARGET",
          `The organization is already connected to tenant ${input.tenantId}; there is nothing to connect. Users without a tenant identity are disconnected: invite or resolve them.`,
        ),
      );
    } else {
      blockers.push(
        finding(
          "CONNECTED_TO_OTHER_TENANT",
          `The organization is connected to another tenant (${input.organizationTenantId}), not ${input.tenantId}. Switching tenants loses Entra group permissions (DOMAIN §1.10); disconnect or switch deliberately in the portal first.`,
        ),
      );
    }
  }
  const tfvc = input.projects
    .filter((p) => p.sourceControlType === "Tfvc")
    .map((p) => p.name)
    .sort();
  if (tfvc.length > 0) {
    blockers.push(
      finding(
        "TFVC_IN_USE",
        `${tfvc.length} project(s) use TFVC: ${preview(tfvc)}. TFVC workspaces and shelvesets owned by Microsoft accounts become unusable after the connection; migrate them to Git or clean them up first.`,
      ),
    );
  }
  if (planned.length > RESOLVE_LIMIT) {
    warnings.push(
      finding(
        "MORE_THAN_100_USERS",
        `The organization has ${planned.length} users; above ${RESOLVE_LIMIT} the portal's "Resolve disconnected users" stops working and Microsoft Support must help. This program maps disconnected users itself in the resolve phase, at any number.`,
      ),
    );
  }
  if (planned.length === 0) {
    warnings.push(
      finding(
        "EMPTY_ORGANIZATION",
        "The organization lists no users; check the token's permissions (it must see all users).",
      ),
    );
  }
  ownerFindings(input, index, blockers, warnings);
  const billing = input.billing
    ? billingFindings(input.billing, {
        organization: input.organization.name,
        targetTenantId: input.tenantId,
        connected,
      })
    : { warnings: [], notices: [] };
  warnings.push(...billing.warnings);

  const summary = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const u of planned) summary[u.category]++;
  return {
    organization: input.organization.name,
    tenantId: input.tenantId,
    phase: input.phase,
    summary,
    users: planned,
    blockers,
    warnings,
    notices: billing.notices,
  };
}

/**
 * Who can connect (DOMAIN §1.4–1.5): today only an active member of the tenant who owns the
 * organization, and not while signed in with a Microsoft account whose address equals their Entra
 * identity. That second case is the seed's temporary-owner path.
 */
function ownerFindings(
  input: PlanInput,
  index: ReturnType<typeof indexTenant>,
  blockers: Finding[],
  warnings: Finding[],
): void {
  if (input.organizationTenantId !== null) return; // ownership rules only matter before connecting
  const owner: PlanUser | undefined = input.users.find((u) => u.id === input.ownerId);
  if (owner === undefined) {
    warnings.push(
      finding(
        "OWNER_NOT_FOUND",
        `The organization owner (${input.ownerId}) is not among the listed users; the connection path cannot be checked.`,
      ),
    );
    return;
  }
  if (owner.origin !== "msa") return;
  const match = matchTenant(index, owner);
  const ownerAddresses = addressesOf(owner);
  if (
    match !== undefined &&
    match.identity.kind === "member" &&
    ownerAddresses.includes(normalizeIdentity(match.identity.userPrincipalName))
  ) {
    blockers.push(
      finding(
        "TEMPORARY_OWNER_REQUIRED",
        `The owner ${owner.principalName} signs in with a Microsoft account whose address equals their Entra identity, so they cannot perform the connection. A temporary Microsoft account must own the organization during the connection (seed: "Determine which user is performing the connection").`,
        [owner.principalName],
      ),
    );
    return;
  }
  if (match === undefined || match.identity.kind !== "member") {
    blockers.push(
      finding(
        "OWNER_NOT_TENANT_MEMBER",
        `The owner ${owner.principalName} is ${match === undefined ? "not in the tenant" : "only a guest in the tenant"}; only active members may connect ("Only active members of the AAD tenant are allowed to perform the link"). Invite the owner with userType Member (needs an administrator) or use a temporary owner.`,
        [owner.principalName],
      ),
    );
  }
}

/** The address a tenant identity signs in with: its UPN, or a guest's external address. */
function signInName(identity: TenantIdentity): string {
  return identity.kind === "guest" && identity.mail
    ? normalizeIdentity(identity.mail)
    : normalizeIdentity(identity.userPrincipalName);
}

function finding(code: FindingCode, message: string, users?: readonly string[]): Finding {
  return users === undefined ? { code, message } : { code, message, users };
}

/** The first few names, so a message about 5,000 users stays one readable line. */
function preview(names: readonly string[], max = 10): string {
  return names.length <= max
    ? names.join(", ")
    : `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}
