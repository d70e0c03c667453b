/**
 * Builds the state a stack's earlier runs left (what `pulumi:pulumi:readStackResourceOutputs`
 * answers), for tests that start in a later phase: the resources with the URNs, parents and outputs
 * the components and providers give them.
 */
import { RESOURCE_TYPES as T } from "../../components/types";
import type { StackResources } from "../../inventory/stack";

/** The URN a resource of `qualifiedType` (its parents' types first, `$`-joined) has in stack dev. */
export const urn = (qualifiedType: string, name: string): string =>
  `urn:pulumi:dev::devops-entra-connect::${qualifiedType}::${name}`;

export interface StatePieces {
  readonly organization?: string;
  /** Addresses this stack invited. */
  readonly invited?: readonly string[];
  readonly temporaryOwner?: {
    readonly msaEmail: string;
    /** Its organization user id; without it, only the invitation is in the state. */
    readonly userId?: string;
    readonly ownerBefore?: string;
    readonly tenantUserId?: string;
  };
  readonly ownership?: { readonly ownerId: string; readonly previousOwnerId: string };
  readonly connectedTenant?: string;
}

export function stackState(p: StatePieces): StackResources {
  const organization = p.organization ?? "fabrikam";
  const out: Record<string, { type: string; outputs: Record<string, unknown> }> = {};
  for (const address of p.invited ?? []) {
    out[urn(`${T.tenantGuests}$${T.invitation}`, `guests-${address}`)] = {
      type: T.invitation,
      outputs: { userEmailAddress: address, userId: `guest-${address}` },
    };
  }
  const t = p.temporaryOwner;
  if (t) {
    out[urn(`${T.temporaryOwner}$${T.invitation}`, "temporary-owner-invitation")] = {
      type: T.invitation,
      outputs: {
        userEmailAddress: t.msaEmail,
        ...(t.tenantUserId ? { userId: t.tenantUserId } : {}),
      },
    };
    if (t.userId) {
      out[urn(`${T.temporaryOwner}$${T.organizationUser}`, "temporary-owner-user")] = {
        type: T.organizationUser,
        outputs: {
          organization,
          principalName: t.msaEmail,
          license: "express",
          role: "owner",
          userId: t.userId,
          addedByThisStack: true,
          ...(t.ownerBefore ? { ownerBefore: t.ownerBefore } : {}),
        },
      };
    }
  }
  if (p.ownership) {
    out[urn(`${T.temporaryOwner}$${T.organizationOwner}`, "temporary-owner-ownership")] = {
      type: T.organizationOwner,
      outputs: { organization, ...p.ownership },
    };
  }
  if (p.connectedTenant) {
    out[urn(`${T.directoryConnection}$${T.tenantConnection}`, "directory-connection")] = {
      type: T.tenantConnection,
      outputs: { organization, tenantId: p.connectedTenant },
    };
  }
  return out;
}
