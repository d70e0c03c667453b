/**
 * The plan's input from the settings and the inventory: plain data only. Kept apart so that a
 * test builds a plan input exactly as the program does.
 */
import type { MigrationConfig } from "../config/schema";
import type { Inventory } from "../inventory/index";
import type { PlanInput, TenantIdentity } from "./types";

export function planInputOf(config: MigrationConfig, inventory: Inventory): PlanInput {
  return {
    organization: config.organization,
    tenantId: config.tenantId,
    phase: config.phase,
    organizationTenantId: inventory.organization.tenantId,
    ownerId: inventory.organization.ownerId,
    users: inventory.listing.users,
    projects: inventory.projects,
    inventoryProblems: inventory.listing.problems,
    tenant: {
      users: withStanding(inventory.tenant.users, inventory.standings.owner),
      verifiedDomains: inventory.tenant.verifiedDomains,
    },
    identityChanges: config.identityChanges,
    acceptHistoricUsers: config.acceptHistoricUsers,
    excludeUsers: config.excludeUsers,
    invitationUserType: config.invitation.userType,
    previouslyInvited: inventory.ledger.invited,
    invitedUserIds: inventory.ledger.invitedUserIds,
    previouslyMapped: inventory.ledger.mapped,
    ...(inventory.billing ? { billing: inventory.billing } : {}),
  };
}

/**
 * `getUsers` gives no `userType`: the owner's identity takes its exact standing, since a B2B
 * member has a guest-style UPN too and the connection path depends on it.
 */
function withStanding(
  users: readonly TenantIdentity[],
  owner: Inventory["standings"]["owner"],
): TenantIdentity[] {
  if (owner === undefined || owner.standing.kind === owner.identity.kind) return [...users];
  return users.map((u) => (u === owner.identity ? { ...u, kind: owner.standing.kind } : u));
}
