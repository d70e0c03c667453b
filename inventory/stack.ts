/**
 * What this stack holds: the facts its resources recorded when they were created, read from the
 * stack's own state (the builtin invoke `pulumi:pulumi:readStackResourceOutputs`, which answers the
 * outputs of every resource in the latest snapshot — a failed update's completed steps included).
 * Unlike stack outputs, which an update saves only at its end, resource state records each step as
 * it completes, so a failed or interrupted run leaves the facts the next run needs to converge.
 */
import * as pulumi from "@pulumi/pulumi";
import { normalizeIdentity } from "../config/identity";
import { RESOURCE_TYPES } from "../components/types";
import type { MappingRecord } from "../plan/types";

/** The temporary owner pairing, as far as this stack created it. */
export interface TemporaryOwnerRecord {
  /** The temporary Microsoft account's address (normalized). */
  readonly msaEmail: string;
  /**
   * True when `msaEmail` comes from what this stack declared (its organization user, or the
   * pairing's own record). False when only the invitation says it: azuread's read replaces the
   * invited address there with the user's `mail`, which is someone else's when Entra answered
   * the invitation with an existing user (docs/entra.md#existing-users).
   */
  readonly msaEmailConfirmed: boolean;
  /** The stack holds the pairing's invitation. */
  readonly invitationRecorded: boolean;
  /** Its organization user id, once this stack added it. */
  readonly userId?: string;
  /**
   * True when this stack's resource added the user (or adopted the one its own lost request
   * added); false for an adopted user of an older release, which this stack never removes.
   */
  readonly addedByThisStack?: boolean;
  /** The organization's owner when the temporary user was added: who gets ownership back. */
  readonly ownerBefore?: string;
  /** The tenant user its invitation created (object id). */
  readonly tenantUserId?: string;
  /** The stage the pairing was last declared at (plan/decisions.ts `PairingStage`). */
  readonly stage?: string;
  /** Whether the invitation was last registered deletable (absent in older states). */
  readonly guestDeletable?: boolean;
}

export interface StackLedger {
  /** Organization names the resources are about (lower case): more than one is a stack error. */
  readonly organizations: ReadonlySet<string>;
  /** The tenant the connection resource connected, when there is one. */
  readonly connectedTenant?: string;
  /** Addresses this stack invited as guests (normalized, as the invitation was named). */
  readonly invited: ReadonlySet<string>;
  /**
   * The tenant user each of those invitations created (object id, lower case), when recorded; ""
   * when a refresh found it gone.
   */
  readonly invitedUserIds: ReadonlyMap<string, string>;
  /** Mappings this stack made, by organization user id. */
  readonly mapped: ReadonlyMap<string, MappingRecord>;
  readonly temporaryOwner?: TemporaryOwnerRecord;
  /** The owner change this stack made: to whom, and who owned the organization before. */
  readonly ownership?: { readonly ownerId: string; readonly previousOwnerId: string };
}

/** The resources of a snapshot, as the invoke answers them: URN → type and outputs. */
export type StackResources = Readonly<
  Record<string, { readonly type?: unknown; readonly outputs?: unknown }>
>;

/** The invoke's token; the tests' mocks answer it from a recorded state. */
export const READ_STACK_RESOURCES = "pulumi:pulumi:readStackResourceOutputs";

/** The name a resource was registered with: the URN's last part. */
function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The component a resource is a child of: the qualified type's parent part, if any. */
function parentTypeOf(urn: string): string | undefined {
  const qualified = urn.split("::")[2] ?? "";
  const parts = qualified.split("$");
  return parts.length > 1 ? parts[parts.length - 2] : undefined;
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;

/** What the temporary owner pairing's resources recorded, as they are read one by one. */
interface TemporaryReading {
  record: { -readonly [K in keyof TemporaryOwnerRecord]?: TemporaryOwnerRecord[K] };
  /** Where the temporary account's address was read, most reliable first. */
  address: { user?: string; pairing?: string; invitation?: string };
}

/** Records a resource of the temporary owner pairing; false for any other resource. */
function readTemporaryOwner(
  type: string,
  parent: string | undefined,
  outputs: Record<string, unknown>,
  t: TemporaryReading,
): boolean {
  const userId = text(outputs.userId)?.toLowerCase();
  if (type === RESOURCE_TYPES.invitation && parent === RESOURCE_TYPES.temporaryOwner) {
    const invited = text(outputs.userEmailAddress);
    if (invited !== undefined) t.address.invitation = normalizeIdentity(invited);
    t.record.invitationRecorded = true;
    if (userId !== undefined) t.record.tenantUserId = userId;
  } else if (type === RESOURCE_TYPES.organizationUser && parent === RESOURCE_TYPES.temporaryOwner) {
    const principal = text(outputs.principalName);
    if (principal !== undefined) t.address.user = normalizeIdentity(principal);
    if (userId !== undefined) t.record.userId = userId;
    if (typeof outputs.addedByThisStack === "boolean") {
      t.record.addedByThisStack = outputs.addedByThisStack;
    }
    const before = text(outputs.ownerBefore);
    if (before !== undefined) t.record.ownerBefore = before.toLowerCase();
  } else if (type === RESOURCE_TYPES.temporaryOwner) {
    const stage = text(outputs.stage);
    if (stage !== undefined) t.record.stage = stage;
    if (typeof outputs.guestDeletable === "boolean")
      t.record.guestDeletable = outputs.guestDeletable;
    const declared = text(outputs.msaEmail);
    if (declared !== undefined) t.address.pairing = normalizeIdentity(declared);
  } else {
    return false;
  }
  return true;
}

/** The pairing's record, its address from the most reliable place that holds one. */
function temporaryOwnerOf(t: TemporaryReading): TemporaryOwnerRecord | undefined {
  const declared = t.address.user ?? t.address.pairing;
  const msaEmail = declared ?? t.address.invitation;
  if (msaEmail === undefined) return undefined;
  return {
    ...t.record,
    msaEmail,
    msaEmailConfirmed: declared !== undefined,
    invitationRecorded: t.record.invitationRecorded === true,
  };
}

/**
 * Reads the ledger out of a snapshot's resources. Pure. Names carry the facts the program chose
 * when it declared them (`guests-<address>`, `map-<principal name>`), outputs the facts the
 * resources recorded.
 */
export function ledgerOf(resources: StackResources): StackLedger {
  const organizations = new Set<string>();
  const invited = new Set<string>();
  const invitedUserIds = new Map<string, string>();
  const mapped = new Map<string, MappingRecord>();
  let connectedTenant: string | undefined;
  const temporary: TemporaryReading = { record: {}, address: {} };
  let ownership: StackLedger["ownership"];
  for (const [urn, resource] of Object.entries(resources)) {
    const outputs = (resource.outputs ?? {}) as Record<string, unknown>;
    const organization = text(outputs.organization);
    if (organization !== undefined) organizations.add(organization.toLowerCase());
    const type = String(resource.type ?? "");
    const parent = parentTypeOf(urn);
    if (type === RESOURCE_TYPES.invitation && parent === RESOURCE_TYPES.tenantGuests) {
      const address = normalizeIdentity(nameOf(urn).replace(/^[^-]*-/, ""));
      invited.add(address);
      // azuread's read empties user_id when the user is gone (a refresh after a deletion).
      const userId = outputs.userId === "" ? "" : text(outputs.userId);
      if (userId !== undefined) invitedUserIds.set(address, userId.toLowerCase());
    } else if (readTemporaryOwner(type, parent, outputs, temporary)) {
      // recorded in `temporary`
    } else if (type === RESOURCE_TYPES.organizationOwner) {
      const ownerId = text(outputs.ownerId);
      const previousOwnerId = text(outputs.previousOwnerId);
      if (ownerId !== undefined && previousOwnerId !== undefined) {
        ownership = {
          ownerId: ownerId.toLowerCase(),
          previousOwnerId: previousOwnerId.toLowerCase(),
        };
      }
    } else if (type === RESOURCE_TYPES.tenantConnection) {
      // What it connected; `tenantId` follows the organization on refresh (older states only have it).
      const tenant = text(outputs.connectedTenantId) ?? text(outputs.tenantId);
      connectedTenant = tenant?.toLowerCase() ?? connectedTenant;
    } else if (type === RESOURCE_TYPES.userMapping) {
      const userId = text(outputs.userId);
      const to = text(outputs.principalName);
      if (userId !== undefined && to !== undefined) {
        const from = text(outputs.mappedFrom) ?? nameOf(urn).replace(/^map-/, "");
        mapped.set(userId.toLowerCase(), {
          from: normalizeIdentity(from),
          to: normalizeIdentity(to),
        });
      }
    }
  }
  const temporaryOwner = temporaryOwnerOf(temporary);
  return {
    organizations,
    ...(connectedTenant !== undefined ? { connectedTenant } : {}),
    invited,
    invitedUserIds,
    mapped,
    ...(temporaryOwner ? { temporaryOwner } : {}),
    ...(ownership ? { ownership } : {}),
  };
}

/** This stack's fully qualified name, as the backend knows it. */
function selfName(): string {
  return `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

/** Reads this stack's resources from its state and returns its ledger; a failure fails closed. */
export async function readStackLedger(): Promise<StackLedger> {
  const answer = (await pulumi.runtime.invoke(READ_STACK_RESOURCES, {
    stackName: selfName(),
  })) as { outputs?: StackResources };
  if (typeof answer?.outputs !== "object" || answer.outputs === null) {
    throw new Error("reading this stack's resources returned no resource list");
  }
  return ledgerOf(answer.outputs);
}
