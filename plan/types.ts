/** Plain data the plan is computed from and the plan itself: no Pulumi types here. */
import type { InvitedUserType, Phase } from "../config/schema";

export const CATEGORIES = [
  "tenantMember",
  "tenantGuest",
  "invite",
  "mapAfterConnect",
  "supportTicket",
  "acceptedHistoric",
  "excluded",
  "historic",
] as const;

/**
 * What happens to one organization user. `tenantMember` / `tenantGuest`: the connection binds the
 * user to that identity by its sign-in name. `mapAfterConnect`: the user is mapped to an existing
 * tenant identity once the organization is connected (an identity change, a match by another
 * address than the sign-in name, or a user the connection left disconnected). `historic` is the
 * case the migration must never let through silently: no usable tenant identity (none, or only a
 * disabled account), cannot be invited (their address is on one of the tenant's own domains), and
 * not accepted by the operator. See docs/procedure.md#classification.
 */
export type Category = (typeof CATEGORIES)[number];

/** One organization user, as much of it as planning needs. */
export interface PlanUser {
  readonly id: string;
  readonly principalName: string;
  readonly mailAddress?: string;
  readonly displayName?: string;
  /** `msa` or `aad`; after the connection, an `msa` user is disconnected (docs/procedure.md#resolve). */
  readonly origin: string;
  /** For an `aad` user: the Entra object id it is bound to. */
  readonly originId?: string;
}

/**
 * Member or B2B guest of the tenant: Graph's `userType` ("Member", "Guest"; config's
 * {@link InvitedUserType}), in lower case.
 */
export type TenantUserKind = "member" | "guest";

/** One identity of the target tenant. */
export interface TenantIdentity {
  readonly objectId: string;
  readonly userPrincipalName: string;
  readonly mail?: string;
  /** Member or B2B guest: from `userType` when known, else from the `#EXT#` UPN form. */
  readonly kind: TenantUserKind;
  /** False for a disabled account, which nobody can sign in with; absent when not known. */
  readonly accountEnabled?: boolean;
}

export interface PlanInput {
  readonly organization: { readonly name: string; readonly url: string };
  readonly tenantId: string;
  readonly phase: Phase;
  /** Tenant the organization is on today; null when Microsoft-account backed. */
  readonly organizationTenantId: string | null;
  readonly ownerId: string;
  readonly users: readonly PlanUser[];
  /** Each project and whether it can hold TFVC repositories (`unknown` blocks the connection). */
  readonly projects: readonly {
    readonly name: string;
    readonly versionControl: "git" | "tfvc" | "unknown";
  }[];
  /** Why the organization's user listing may be incomplete (empty when it is complete). */
  readonly inventoryProblems?: readonly string[];
  readonly tenant: {
    readonly users: readonly TenantIdentity[];
    /** The tenant's verified domains, lower case: addresses there cannot be invited as guests. */
    readonly verifiedDomains: readonly string[];
  };
  readonly identityChanges: ReadonlyMap<string, string>;
  readonly acceptHistoricUsers: ReadonlySet<string>;
  readonly excludeUsers: ReadonlySet<string>;
  readonly invitationUserType: InvitedUserType;
  /** Normalized emails this stack invited on earlier runs (from its resources' state). */
  readonly previouslyInvited: ReadonlySet<string>;
  /**
   * The tenant user each of those invitations created (object id), as its resource recorded it;
   * absent for an older state, "" once a refresh found the user gone. A recorded guest the tenant
   * no longer has was deleted, or the stack invited it into another tenant.
   */
  readonly invitedUserIds?: ReadonlyMap<string, string>;
  /** Mappings this stack made on earlier runs, by organization user id (from its resources). */
  readonly previouslyMapped: ReadonlyMap<string, MappingRecord>;
  /** What bills the organization, in the phases that check it; absent elsewhere. */
  readonly billing?: BillingReading;
}

/**
 * The Azure subscription that bills the organization and the directory it belongs to, or that
 * none is set up, or what could not be read (billing is reported, never a blocker).
 */
export type BillingReading =
  | { readonly kind: "notSetUp" }
  | {
      readonly kind: "setUp";
      readonly subscriptionId: string;
      /** The Entra tenant (directory) the subscription trusts. */
      readonly subscriptionTenantId: string;
      /** The billing setup's subscription status (e.g. "active"), when it says. */
      readonly status?: string;
    }
  | {
      readonly kind: "unknown";
      /** What could not be found out, e.g. "which Azure subscription bills the organization". */
      readonly what: string;
      /** Why: the failed call and its error. */
      readonly reason: string;
    };

/** One identity mapping: an organization user (by its stable id) bound to an Entra identity. */
export interface MappingRecord {
  /** The organization user's principal name before the mapping. */
  readonly from: string;
  /** The Entra identity's address. */
  readonly to: string;
}

export interface PlannedUser {
  /** The organization user's id (its storage key): what stays the same through a mapping. */
  readonly id: string;
  readonly principalName: string;
  /** Normalized address used for matching and, for `invite`, for the invitation. */
  readonly email: string;
  readonly displayName?: string;
  readonly category: Category;
  readonly action: string;
  readonly reason: string;
  /** The tenant identity it matched, when any. */
  readonly tenantIdentity?: string;
  /** For `mapAfterConnect`: the organization user and the identity it is mapped to. */
  readonly mapping?: {
    readonly userId: string;
    readonly from: string;
    readonly to: string;
    /** The Entra object id, when the tenant scan knows the identity. */
    readonly originId?: string;
    /** True once the user answers to that identity: nothing left to do. */
    readonly done: boolean;
  };
}

export interface Finding {
  readonly code: FindingCode;
  readonly message: string;
  readonly users?: readonly string[];
}

export interface MigrationPlan {
  readonly organization: string;
  readonly tenantId: string;
  readonly phase: Phase;
  readonly summary: Readonly<Record<Category, number>>;
  readonly users: readonly PlannedUser[];
  readonly blockers: readonly Finding[];
  readonly warnings: readonly Finding[];
  /** For information only: nothing to do, or nothing yet. */
  readonly notices: readonly Finding[];
}

/** Stable codes: pipelines may match on them, so they never change meaning. */
export const FINDING_CODES = [
  // blockers: the connection, and in `resolve` a mapping, waits until they are cleared
  "HISTORIC_USERS_NOT_ACCEPTED",
  "INVITED_GUESTS_NOT_IN_TENANT",
  "INVITATIONS_MATCHED_OTHER_USERS",
  "SUPPORT_TICKET_REQUIRED",
  "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
  "CONFIG_USERS_NOT_IN_ORGANIZATION",
  "TFVC_IN_USE",
  "TFVC_NOT_VERIFIED",
  "CONNECTED_TO_OTHER_TENANT",
  "INVENTORY_INCOMPLETE",
  "EMPTY_ORGANIZATION",
  "OWNER_NOT_FOUND",
  "DUPLICATE_ORGANIZATION_USERS",
  "USERS_WITHOUT_PRINCIPAL_NAME",
  "AMBIGUOUS_TENANT_MATCH",
  "MAPPING_TARGET_SHARED",
  "MAPPING_TARGET_HELD",
  "TEMPORARY_OWNER_REQUIRED",
  "OWNER_NOT_TENANT_MEMBER",
  "TEMPORARY_OWNER_NOT_CONFIGURED",
  "TEMPORARY_OWNER_NOT_INVITED",
  "TEMPORARY_OWNER_INVITATION_NOT_REDEEMED",
  "TEMPORARY_OWNER_IS_GUEST",
  "TEMPORARY_OWNER_NOT_IN_ORGANIZATION",
  "TEMPORARY_OWNER_NEVER_SIGNED_IN",
  "CONNECTING_USER_NOT_ACTIVE_MEMBER",
  "TOKEN_IDENTITY_MISMATCH",
  // warnings
  "ALREADY_CONNECTED_TO_TARGET",
  "MORE_THAN_100_USERS",
  "IDENTITY_CHANGE_TARGET_MISSING",
  "ACCEPTED_USERS_HAVE_TENANT_IDENTITY",
  "MEMBER_INVITATIONS_NEED_ADMIN",
  "INVITED_GUESTS_LEFT_ORGANIZATION",
  "IDENTITY_MAPPINGS_PLANNED",
  "DISCONNECTED_USERS_UNRESOLVED",
  "BILLING_IN_OTHER_TENANT",
  "BILLING_CHECK_FAILED",
  // notices
  "BILLING_NOT_SET_UP",
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

/**
 * Blockers that guard the identity mappings as much as the connection: after the connection
 * (`resolve`, `cleanup`) these still refuse the run, since mapping onto an identity someone else
 * holds removes that person's access (docs/azure-devops-apis.md#map-user).
 */
export const MAPPING_BLOCKERS: readonly FindingCode[] = [
  "INVENTORY_INCOMPLETE",
  "EMPTY_ORGANIZATION",
  "DUPLICATE_ORGANIZATION_USERS",
  "USERS_WITHOUT_PRINCIPAL_NAME",
  "AMBIGUOUS_TENANT_MATCH",
  "MAPPING_TARGET_SHARED",
  "MAPPING_TARGET_HELD",
  "CONFIG_USERS_NOT_IN_ORGANIZATION",
];
