/** Plain data the plan is computed from and the plan itself: no Pulumi types here. */

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
 * What happens to one organization user. `mapAfterConnect`: the user is mapped to an existing tenant
 * identity once the organization is connected (an identity change, or a user the connection left
 * disconnected). `historic` is the case the migration must never let through silently: no tenant
 * identity, cannot be invited (their address is on one of the tenant's own domains), and not
 * accepted by the operator.
 */
export type Category = (typeof CATEGORIES)[number];

/** One organization user, as much of it as planning needs. */
export interface PlanUser {
  readonly id: string;
  readonly principalName: string;
  readonly mailAddress?: string;
  readonly displayName?: string;
  /** `msa` or `aad`; after the connection, an `msa` user is disconnected (DOMAIN §1.9). */
  readonly origin: string;
}

/** One identity of the target tenant. */
export interface TenantIdentity {
  readonly objectId: string;
  readonly userPrincipalName: string;
  readonly mail?: string;
  /** Member or B2B guest: from `userType` when known, else from the `#EXT#` UPN form. */
  readonly kind: "member" | "guest";
}

export interface PlanInput {
  readonly organization: { readonly name: string; readonly url: string };
  readonly tenantId: string;
  readonly phase: string;
  /** Tenant the organization is on today; null when Microsoft-account backed. */
  readonly organizationTenantId: string | null;
  readonly ownerId: string;
  readonly users: readonly PlanUser[];
  readonly projects: readonly { readonly name: string; readonly sourceControlType: string }[];
  readonly tenant: {
    readonly users: readonly TenantIdentity[];
    /** The tenant's verified domains, lower case: addresses there cannot be invited as guests. */
    readonly verifiedDomains: readonly string[];
  };
  readonly identityChanges: ReadonlyMap<string, string>;
  readonly acceptHistoricUsers: ReadonlySet<string>;
  readonly excludeUsers: ReadonlySet<string>;
  readonly invitationUserType: "Guest" | "Member";
  /** Normalized emails this stack invited on earlier runs (its ledger). */
  readonly previouslyInvited: ReadonlySet<string>;
  /** Mappings this stack made on earlier runs, by organization user id (its ledger). */
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
  readonly phase: string;
  readonly summary: Readonly<Record<Category, number>>;
  readonly users: readonly PlannedUser[];
  readonly blockers: readonly Finding[];
  readonly warnings: readonly Finding[];
  /** For information only: nothing to do, or nothing yet. */
  readonly notices: readonly Finding[];
}

/** Stable codes: pipelines may match on them, so they never change meaning. */
export const FINDING_CODES = [
  // blockers
  "HISTORIC_USERS_NOT_ACCEPTED",
  "TFVC_IN_USE",
  "CONNECTED_TO_OTHER_TENANT",
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
  "SUPPORT_TICKET_REQUIRED",
  "IDENTITY_CHANGE_TARGET_MISSING",
  "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
  "ACCEPTED_USERS_HAVE_TENANT_IDENTITY",
  "CONFIG_USERS_NOT_IN_ORGANIZATION",
  "MEMBER_INVITATIONS_NEED_ADMIN",
  "INVITED_GUESTS_LEFT_ORGANIZATION",
  "IDENTITY_MAPPINGS_PLANNED",
  "DISCONNECTED_USERS_UNRESOLVED",
  "DUPLICATE_ORGANIZATION_USERS",
  "AMBIGUOUS_TENANT_MATCH",
  "OWNER_NOT_FOUND",
  "EMPTY_ORGANIZATION",
  "BILLING_IN_OTHER_TENANT",
  "BILLING_CHECK_FAILED",
  // notices
  "BILLING_NOT_SET_UP",
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];
