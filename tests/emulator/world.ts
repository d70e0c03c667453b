/**
 * The "world" an Azure DevOps emulator serves: one organization, its users and projects, and the
 * Entra ID tenant it may be connected to. Fixtures are plain JSON so the program's tests and the
 * standalone emulator share them; everything the emulator derives (ids, display names) is
 * deterministic, so two runs over one fixture answer byte-for-byte the same. Behaviour rules carry
 * a `// rule <id> [<class>] <source>` tag (docs/test-doubles.md).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { validateBehaviour, type Behaviour } from "./behaviour";

/** Where an Azure DevOps identity comes from: a Microsoft account or an Entra ID (Azure AD) tenant. */
export type Origin = "msa" | "aad";
/** `accountLicenseType` of the user entitlements API; "express" is what the portal calls Basic. */
export type License = "express" | "stakeholder" | "advanced" | "none";
/** The subset of `AccountUserStatus` (memberEntitlementManagement-7.1.json) a fixture needs. */
export type UserStatus = "active" | "pending" | "disabled";

export interface WorldUser {
  principalName: string;
  mailAddress?: string;
  displayName?: string;
  origin: Origin;
  /** Default "express". */
  license?: License;
  /** Default "active". */
  status?: UserStatus;
  /** Entitlement / identity id; derived deterministically from principalName when absent. */
  id?: string;
  /** ISO date; absent = never signed in. */
  lastAccessedDate?: string;
  /** ISO date the user was added to the organization; default a fixed date in the past. */
  dateCreated?: string;
  /**
   * Object id of the tenant identity the user is bound to (origin "aad" only). Set when the
   * connection binds the user, or when an administrator maps it; its graph descriptor is then
   * derived from it. Absent on an "aad" user the fixture wrote by hand: the emulator then finds
   * the identity by UPN or mail, as before.
   */
  originId?: string;
  /**
   * The preferred e-mail of the person's profile, which the profile endpoint reports as
   * `emailAddress`; default the principalName. People set it themselves, so it can differ from
   * the address they sign in with.
   */
  profileEmail?: string;
}

export interface WorldProject {
  name: string;
  /** What the project was created with; a project can hold TFVC and Git repositories whatever it says. */
  sourceControlType: "Git" | "Tfvc";
  id?: string;
  /** `versioncontrol.gitEnabled`; default true for a "Git" project, false for a "Tfvc" one. */
  gitEnabled?: boolean;
  /** `versioncontrol.tfvcEnabled`; default true for a "Tfvc" project, false for a "Git" one. */
  tfvcEnabled?: boolean;
}

export interface TenantUser {
  userPrincipalName: string;
  mail?: string | null;
  userType: "Member" | "Guest";
  displayName?: string;
  /** Derived deterministically from the tenant id and UPN when absent. */
  objectId?: string;
  /** Default true. */
  accountEnabled?: boolean;
  /**
   * B2B invitation state (Graph `externalUserState`, which azuread.getUser reports): an invited
   * guest is "PendingAcceptance" until they redeem the invitation. Default "Accepted". A pending
   * user is not an *active* member, so cannot connect the organization.
   */
  externalUserState?: ExternalUserState;
  /**
   * Graph `companyName`. The azuread provider writes it while it creates an invitation (a marker,
   * then empty), so an invited user's value is cleared. Default unset (Graph: null).
   */
  companyName?: string | null;
  /** Graph `otherMails`: more addresses of the user; Graph's invitation check also matches them. */
  otherMails?: string[];
  /** Graph `proxyAddresses` (`SMTP:a@b`, `smtp:alias@b`); the invitation check also matches them. */
  proxyAddresses?: string[];
  /**
   * Holds the Global Administrator role of the tenant; default false. Only disconnecting the
   * organization asks (Microsoft's procedure wants the disconnecting Microsoft account to be one).
   */
  globalAdministrator?: boolean;
}

/**
 * A personal access token with more than a principal: its scopes (none listed = full access), the
 * organizations it is for, and when it expires.
 */
export interface TokenGrant {
  principalName: string;
  /** OAuth scopes such as "vso.graph_manage"; absent = full access. */
  scopes?: string[];
  /** False for a token made for this one organization; default true ("All accessible organizations"). */
  allOrganizations?: boolean;
  /** ISO date-time after which the service no longer takes the token. */
  expiresAt?: string;
}

/** Graph's `externalUserState` values the emulator models. */
export type ExternalUserState = "PendingAcceptance" | "Accepted";

/**
 * The Azure subscription that bills the organization (docs/billing.md): what the commerce
 * endpoint's billing setup names, and the directory Azure Resource Manager's challenge names.
 */
export interface WorldBilling {
  subscriptionId: string;
  /** The Entra tenant (directory) the subscription trusts; any tenant, not only `tenant.id`. */
  subscriptionTenantId: string;
  /** `subscriptionStatus` of the billing setup; default "active". */
  status?: string;
}

export interface World {
  organization: string;
  /** principalName of an organization user. */
  owner: string;
  /** Tenant the organization is connected to; null = MSA-backed. */
  tenantId: string | null;
  users: WorldUser[];
  projects: WorldProject[];
  tenant: { id: string; domains: string[]; users: TenantUser[] };
  /** principalName the profile "me" call answers for (when `tokens` does not say otherwise). */
  caller: string;
  /**
   * Optional: token value -> the principalName it authenticates as (or a {@link TokenGrant}); when
   * set, other tokens are refused.
   */
  tokens?: Record<string, string | TokenGrant>;
  /**
   * Principal names of Project Collection Administrators besides the owner, who always is one.
   * Each must be an organization user. Only PCAs may change the owner.
   */
  administrators?: string[];
  /** What bills the organization; absent or null: billing is not set up (the free tier). */
  billing?: WorldBilling | null;
  /** The emulator's switches this world sets; the others keep their defaults (behaviour.ts). */
  behaviour?: Partial<Behaviour>;
}

/** The principal a `world.tokens` entry authenticates as. */
export function tokenPrincipal(entry: string | TokenGrant): string {
  return typeof entry === "string" ? entry : entry.principalName;
}

/** A `world.tokens` entry as a grant: a plain principal name is a full-access, all-organization token. */
export function tokenGrant(entry: string | TokenGrant): TokenGrant {
  return typeof entry === "string" ? { principalName: entry } : entry;
}

export interface NormalizedUser extends WorldUser {
  mailAddress: string;
  displayName: string;
  license: License;
  status: UserStatus;
  id: string;
  dateCreated: string;
}

export interface NormalizedProject extends WorldProject {
  id: string;
}

export interface NormalizedTenantUser extends TenantUser {
  mail: string | null;
  displayName: string;
  objectId: string;
  accountEnabled: boolean;
  externalUserState: ExternalUserState;
}

/** A world with every optional id and default filled in. */
export interface NormalizedWorld extends World {
  /** Deterministic id of the organization (what `Organization/Collections/Me` calls `id`). */
  organizationId: string;
  users: NormalizedUser[];
  projects: NormalizedProject[];
  tenant: { id: string; domains: string[]; users: NormalizedTenantUser[] };
  /** Never undefined; does not repeat the owner unless the fixture does. */
  administrators: string[];
}

/** Default `dateCreated` of fixture users: fixed so responses are reproducible. */
export const DEFAULT_DATE_CREATED = "2018-03-01T09:00:00Z";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// One "@" with something on both sides. Guest UPNs (`alias_domain#EXT#@tenant.onmicrosoft.com`)
// contain '#' and '_' but still exactly one '@'.
const PRINCIPAL = /^[^@\s]+@[^@\s]+$/;
const HOST_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const guidCache = new Map<string, string>();

/**
 * A GUID derived from `name`: the first 128 bits of its SHA-1, shaped 8-4-4-4-12. The version
 * nibble is set to 5 and the variant to RFC 4122, as for a name-based UUID, so strict validators
 * (zod's `z.uuid()`) accept the ids the emulator invents.
 */
export function deterministicGuid(name: string): string {
  const cached = guidCache.get(name);
  if (cached !== undefined) {
    return cached;
  }
  const bytes = createHash("sha1").update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  const guid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  // Emulated worlds hold thousands of users at most; the cap only guards a runaway bench.
  if (guidCache.size > 100_000) {
    guidCache.clear();
  }
  guidCache.set(name, guid);
  return guid;
}

/** The id an organization user gets when the fixture does not set one. */
export function defaultUserId(principalName: string): string {
  return deterministicGuid(`user:${principalName.toLowerCase()}`);
}

/** The id a project gets when the fixture does not set one. */
export function defaultProjectId(organization: string, projectName: string): string {
  return deterministicGuid(`project:${organization.toLowerCase()}/${projectName.toLowerCase()}`);
}

/** The object id a tenant user gets when the fixture does not set one. */
export function defaultObjectId(tenantId: string, userPrincipalName: string): string {
  return deterministicGuid(
    `tenant-user:${tenantId.toLowerCase()}/${userPrincipalName.toLowerCase()}`,
  );
}

/**
 * The address a B2B guest was invited with, read back from its UPN: Entra writes
 * `alias_domain#EXT#@tenant.onmicrosoft.com` for alias@domain. The last '_' before `#EXT#` is the
 * '@' (host names have no '_'; aliases may). undefined for a non-guest UPN.
 */
// rule W3 [obs] A guest UPN is alias_domain#EXT#@tenant.onmicrosoft.com; the last '_' before #EXT# is the '@' (#EXT#: https://learn.microsoft.com/entra/external-id/user-properties; the alias_domain form: MicrosoftDocs/entra-docs examples)
export function externalAddressOf(userPrincipalName: string): string | undefined {
  const marker = userPrincipalName.toUpperCase().indexOf("#EXT#@");
  if (marker < 0) {
    return undefined;
  }
  const local = userPrincipalName.slice(0, marker);
  const at = local.lastIndexOf("_");
  return at <= 0 || at === local.length - 1
    ? undefined
    : `${local.slice(0, at)}@${local.slice(at + 1)}`.toLowerCase();
}

/** True for a UPN Entra gave an invited (external) user: it carries `#EXT#`. */
export function isExternalUpn(userPrincipalName: string): boolean {
  return userPrincipalName.toUpperCase().includes("#EXT#@");
}

/**
 * The tenant users a principal name stands for: equal, case-insensitively, to the UPN, the mail,
 * or the external address inside a guest UPN. Several can match (a member's UPN and a stale
 * guest's mail); callers decide which one counts.
 */
// rule W2 [doc] Principal names, UPNs and mails compare case-insensitively (https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname)
export function tenantUsersMatching<T extends TenantUser>(
  users: readonly T[],
  address: string,
): T[] {
  const wanted = address.toLowerCase();
  return users.filter(
    (t) =>
      t.userPrincipalName.toLowerCase() === wanted ||
      (typeof t.mail === "string" && t.mail.toLowerCase() === wanted) ||
      externalAddressOf(t.userPrincipalName) === wanted,
  );
}

/** The domain part of a principal name or mail, lower-cased. */
export function domainOf(principalName: string): string {
  return principalName.slice(principalName.lastIndexOf("@") + 1).toLowerCase();
}

/** True when the address is on one of the tenant's own (verified) domains. */
export function isOnTenantDomain(world: Pick<World, "tenant">, principalName: string): boolean {
  const domain = domainOf(principalName);
  return world.tenant.domains.some((d) => d.toLowerCase() === domain);
}

/** "sam.taylor@fabrikam.com" -> "sam taylor": a readable stand-in when a fixture sets no name. */
function displayNameFrom(principalName: string): string {
  const local = principalName.slice(0, principalName.indexOf("@"));
  return local.replace(/[._]+/g, " ").trim() || principalName;
}

/** One organization user with its defaults filled in (what {@link normalizeWorld} does to each). */
// rule W4 [guess] A user a fixture leaves bare gets mailAddress = principalName, a display name from the local part, status active, license express (a public capture shows mailAddress = principalName for one aad user: demisto/content Packs/AzureDevOps/Integrations/AzureDevOps/README.md)
export function normalizeUser(u: WorldUser): NormalizedUser {
  const user: NormalizedUser = {
    ...u,
    mailAddress: u.mailAddress ?? u.principalName,
    displayName: u.displayName ?? displayNameFrom(u.principalName),
    license: u.license ?? "express",
    status: u.status ?? "active",
    id: userIdOf(u),
    dateCreated: u.dateCreated ?? DEFAULT_DATE_CREATED,
  };
  if (u.originId !== undefined) {
    user.originId = u.originId.toLowerCase();
  }
  return user;
}

// Per-object memos of derived ids. Handlers scan every user or tenant identity per request; a
// WeakMap hit costs far less than rebuilding the name string and looking it up in the GUID cache,
// which is what keeps thousands of requests over thousands of users fast. Each entry records the
// fields it was derived from, so a test that edits a user in place gets a fresh value.
const userIds = new WeakMap<WorldUser, { name: string; id: string | undefined; value: string }>();
const objectIds = new WeakMap<
  TenantUser,
  { tenantId: string; upn: string; id: string | undefined; value: string }
>();

/** The (lower-cased) id of an organization user: the fixture's, else derived from its name. */
export function userIdOf(u: WorldUser): string {
  const memo = userIds.get(u);
  if (memo !== undefined && memo.name === u.principalName && memo.id === u.id) {
    return memo.value;
  }
  const value = (u.id ?? defaultUserId(u.principalName)).toLowerCase();
  userIds.set(u, { name: u.principalName, id: u.id, value });
  return value;
}

/** The (lower-cased) object id of a tenant user: the fixture's, else derived from its UPN. */
export function objectIdOf(t: TenantUser, tenantId: string): string {
  const memo = objectIds.get(t);
  if (
    memo !== undefined &&
    memo.tenantId === tenantId &&
    memo.upn === t.userPrincipalName &&
    memo.id === t.objectId
  ) {
    return memo.value;
  }
  const value = (t.objectId ?? defaultObjectId(tenantId, t.userPrincipalName)).toLowerCase();
  objectIds.set(t, { tenantId, upn: t.userPrincipalName, id: t.objectId, value });
  return value;
}

/** One tenant user with its defaults filled in (what {@link normalizeWorld} does to each). */
export function normalizeTenantUser(t: TenantUser, tenantId: string): NormalizedTenantUser {
  return {
    ...t,
    mail: t.mail ?? null,
    displayName: t.displayName ?? displayNameFrom(t.userPrincipalName),
    objectId: objectIdOf(t, tenantId),
    accountEnabled: t.accountEnabled ?? true,
    externalUserState: t.externalUserState ?? "Accepted",
  };
}

/** A copy of the world with every id and default filled in; the input is not modified. */
export function normalizeWorld(w: World): NormalizedWorld {
  return {
    ...w,
    organizationId: deterministicGuid(`organization:${w.organization.toLowerCase()}`),
    users: w.users.map(normalizeUser),
    projects: w.projects.map((p) => ({
      ...p,
      id: (p.id ?? defaultProjectId(w.organization, p.name)).toLowerCase(),
    })),
    tenant: {
      id: w.tenant.id,
      domains: [...w.tenant.domains],
      users: w.tenant.users.map((t) => normalizeTenantUser(t, w.tenant.id)),
    },
    administrators: [...(w.administrators ?? [])],
    ...(w.tokens === undefined ? {} : { tokens: { ...w.tokens } }),
  };
}

// ---------------------------------------------------------------------------------------------
// Binding organization users to tenant identities. When the organization is connected, each user
// whose sign-in address matches a tenant identity is bound to it; the others stay Microsoft
// accounts ("disconnected") until an administrator maps them (graph-7.1.json Users_Update). These
// functions edit a `World` in place; the emulator's handlers call them. Where Azure DevOps sees the
// tenant late (behaviour `entraPropagationMs`), callers pass the users it sees as `tenantUsers`.

/** How an address matched a tenant user, most specific first. */
export type MatchKind = "upn" | "mail" | "invitedAddress";
const MATCH_ORDER: Record<MatchKind, number> = { upn: 0, mail: 1, invitedAddress: 2 };

/** A tenant identity as the index holds it: the world's own entry, its object id, its place. */
export interface IndexedIdentity {
  user: TenantUser;
  objectId: string;
  /** Position in `tenant.users`: the last tie-breaker, for reproducible answers. */
  position: number;
}

export interface TenantMatch {
  identity: IndexedIdentity;
  kind: MatchKind;
}

/**
 * The tenant's identities by every address they answer to: lower-cased UPN, mail and the invited
 * address inside a guest UPN; and by object id. Built once per connection, so matching n users
 * costs O(n + m) rather than the O(n·m) of calling {@link tenantUsersMatching} for each. Entries are not
 * normalized (that is done for the one identity an answer needs, see {@link identityOf}).
 */
export interface TenantIndex {
  tenantId: string;
  byAddress: Map<string, TenantMatch[]>;
  byObjectId: Map<string, IndexedIdentity>;
}

/** An index of `world.tenant` (or of the tenant users Azure DevOps sees, when given). */
export function indexTenant(
  world: World,
  tenantUsers: readonly TenantUser[] = world.tenant.users,
): TenantIndex {
  const index: TenantIndex = {
    tenantId: world.tenant.id,
    byAddress: new Map(),
    byObjectId: new Map(),
  };
  const add = (address: string, identity: IndexedIdentity, kind: MatchKind): void => {
    const key = address.toLowerCase();
    const list = index.byAddress.get(key);
    if (list === undefined) {
      index.byAddress.set(key, [{ identity, kind }]);
    } else if (!list.some((m) => m.identity === identity)) {
      // A member whose mail equals its UPN is listed once, under its most specific kind.
      list.push({ identity, kind });
    }
  };
  tenantUsers.forEach((user, position) => {
    const identity: IndexedIdentity = {
      user,
      objectId: objectIdOf(user, world.tenant.id),
      position,
    };
    index.byObjectId.set(identity.objectId, identity);
    add(user.userPrincipalName, identity, "upn");
    if (typeof user.mail === "string") {
      add(user.mail, identity, "mail");
    }
    // Most UPNs have no '#': skip the upper-casing externalAddressOf does.
    const invited = user.userPrincipalName.includes("#")
      ? externalAddressOf(user.userPrincipalName)
      : undefined;
    if (invited !== undefined) {
      add(invited, identity, "invitedAddress");
    }
  });
  return index;
}

/** The normalized tenant user an index entry stands for. */
export function identityOf(index: TenantIndex, identity: IndexedIdentity): NormalizedTenantUser {
  return normalizeTenantUser(identity.user, index.tenantId);
}

/**
 * Orders candidate identities: a member before a guest, then the more specific match (UPN, then
 * mail, then invited address), then tenant order.
 */
export function compareMatches(a: TenantMatch, b: TenantMatch): number {
  const member = (m: TenantMatch): number => (m.identity.user.userType === "Member" ? 0 : 1);
  return (
    member(a) - member(b) ||
    MATCH_ORDER[a.kind] - MATCH_ORDER[b.kind] ||
    a.identity.position - b.identity.position
  );
}

/** True when `a` equals the already lower-cased `lower`, ignoring case; cheap when lengths differ. */
function equalsLower(a: string, lower: string): boolean {
  return a.length === lower.length && a.toLowerCase() === lower;
}

/**
 * The tenant identity an address stands for (UPN, mail or invited address, case-insensitively),
 * picked as {@link compareMatches} orders them; undefined when none. One pass over the tenant, for
 * a request that needs a single identity (the mapping API) rather than a whole index.
 */
export function findIdentity(
  world: World,
  address: string,
  tenantUsers: readonly TenantUser[] = world.tenant.users,
): NormalizedTenantUser | undefined {
  const wanted = address.toLowerCase();
  let best: TenantUser | undefined;
  let bestRank = Infinity;
  for (const t of tenantUsers) {
    const kind: MatchKind | undefined = equalsLower(t.userPrincipalName, wanted)
      ? "upn"
      : typeof t.mail === "string" && equalsLower(t.mail, wanted)
        ? "mail"
        : t.userPrincipalName.includes("#") && externalAddressOf(t.userPrincipalName) === wanted
          ? "invitedAddress"
          : undefined;
    if (kind === undefined) {
      continue;
    }
    const rank = (t.userType === "Member" ? 0 : 3) + MATCH_ORDER[kind];
    // Strictly better only: on a tie the earlier tenant user stays.
    if (rank < bestRank) {
      best = t;
      bestRank = rank;
    }
  }
  return best === undefined ? undefined : normalizeTenantUser(best, world.tenant.id);
}

/** The tenant identity with that object id (any case), or undefined. */
export function findIdentityById(
  world: World,
  objectId: string,
  tenantUsers: readonly TenantUser[] = world.tenant.users,
): NormalizedTenantUser | undefined {
  const wanted = objectId.toLowerCase();
  const found = tenantUsers.find((t) => objectIdOf(t, world.tenant.id) === wanted);
  return found === undefined ? undefined : normalizeTenantUser(found, world.tenant.id);
}

/**
 * True when the organization user is bound to that identity: by originId; or, for an "aad" user a
 * fixture wrote without one, when its principalName is the identity's UPN or mail (how the graph
 * API has always resolved such a user). No index needed: the mapping API asks it of every user.
 */
export function holdsIdentity(user: WorldUser, identity: NormalizedTenantUser): boolean {
  if (user.origin !== "aad") {
    return false;
  }
  if (user.originId !== undefined) {
    return user.originId.toLowerCase() === identity.objectId;
  }
  const name = user.principalName.toLowerCase();
  return (
    equalsLower(identity.userPrincipalName, name) ||
    (identity.mail !== null && equalsLower(identity.mail, name))
  );
}

/**
 * The name an organization user bound to `identity` signs in with, which Azure DevOps then shows
 * as its principalName: the UPN of a native account, and the invited address (the mail, else the
 * address inside the UPN) of an invited one, whose `alias_domain#EXT#@…` UPN nobody types.
 */
export function signInNameOf(identity: TenantUser): string {
  if (!isExternalUpn(identity.userPrincipalName)) {
    return identity.userPrincipalName;
  }
  return (
    (typeof identity.mail === "string" ? identity.mail : undefined) ??
    externalAddressOf(identity.userPrincipalName) ??
    identity.userPrincipalName
  );
}

/**
 * The object id of the identity an organization user is bound to: its `originId`; for an "aad"
 * user a fixture wrote without one, the tenant user whose UPN or mail is its principalName (what
 * the graph API has always reported for it); undefined for a Microsoft account.
 */
export function boundObjectId(user: WorldUser, index: TenantIndex): string | undefined {
  if (user.origin !== "aad") {
    return undefined;
  }
  if (user.originId !== undefined) {
    return user.originId.toLowerCase();
  }
  return index.byAddress
    .get(user.principalName.toLowerCase())
    ?.find((m) => m.kind !== "invitedAddress")?.identity.objectId;
}

/**
 * Replaces every reference to an organization user's old principalName (case-insensitively, as
 * Azure DevOps compares them) by the new one: owner, administrators, the default caller and the
 * principals tokens authenticate as. The same people keep their roles and their tokens work on.
 */
// rule O15 [guess] A bound user's principalName becomes its sign-in name and owner, administrators and tokens follow it (references are updated on mapping: https://learn.microsoft.com/azure/devops/organizations/accounts/faq-azure-access; tokens surviving is unconfirmed, see behaviour msaTokensAfterConnect)
export function renamePrincipal(world: World, from: string, to: string): void {
  if (from === to) {
    return;
  }
  const old = from.toLowerCase();
  const rename = (name: string): string => (name.toLowerCase() === old ? to : name);
  world.owner = rename(world.owner);
  world.caller = rename(world.caller);
  if (world.administrators !== undefined) {
    world.administrators = world.administrators.map(rename);
  }
  if (world.tokens !== undefined) {
    for (const [token, entry] of Object.entries(world.tokens)) {
      world.tokens[token] =
        typeof entry === "string"
          ? rename(entry)
          : { ...entry, principalName: rename(entry.principalName) };
    }
  }
}

export interface Binding {
  /** The user's principalName before and after; equal when the sign-in name did not change. */
  from: string;
  to: string;
  objectId: string;
}

/**
 * Binds an organization user (an entry of `world.users`, edited in place) to a tenant identity:
 * origin "aad", originId the object id, principalName the identity's sign-in name, mailAddress its
 * mail. The user's id (its storage key) is pinned first, because a default id derives from the
 * principalName. References to the old name follow (see {@link renamePrincipal}). The caller
 * checks that the identity is free and the new name unused.
 */
export function bindUser(world: World, user: WorldUser, identity: NormalizedTenantUser): Binding {
  const from = user.principalName;
  const to = signInNameOf(identity);
  user.id = userIdOf(user);
  // Azure DevOps shows the identity's own name once Entra backs the user; a fixture's name stays.
  user.displayName ??= identity.displayName;
  user.origin = "aad";
  user.originId = identity.objectId;
  user.principalName = to;
  user.mailAddress = identity.mail ?? to;
  renamePrincipal(world, from, to);
  return { from, to, objectId: identity.objectId };
}

/** How connect binds Microsoft-account users (behaviour `connectBinding`). */
export type ConnectBinding = "upn" | "upnOrMail";

/** A connection refused because users cannot be bound unambiguously. */
export class BindingConflict extends Error {
  constructor(readonly principalName: string) {
    super(
      `The organization has multiple active identities with the same UPN '${principalName}': ` +
        "the connection cannot know which one to map. Remove or rename one of them first.",
    );
  }
}

/**
 * True when a match is by the identity's sign-in address: a native account signs in with its UPN,
 * an invited one with the address it was invited with (its mail, or the address inside its UPN).
 */
function isSignInMatch(match: TenantMatch): boolean {
  return isExternalUpn(match.identity.user.userPrincipalName) || match.kind === "upn";
}

/**
 * The first principal name two active (not disabled) organization users share, case-insensitively;
 * undefined when none does.
 */
function sharedPrincipalName(world: World): string | undefined {
  const seen = new Set<string>();
  for (const user of world.users) {
    if (user.status === "disabled") continue;
    const key = user.principalName.toLowerCase();
    if (seen.has(key)) return user.principalName;
    seen.add(key);
  }
  return undefined;
}

// rule O14 [doc] Connect binds each Microsoft-account user to the tenant identity whose sign-in address (a native UPN, an invited guest's address) is its principalName; several active users with one UPN refuse the connection (https://learn.microsoft.com/azure/devops/organizations/accounts/faq-azure-access "multiple active identities with the same UPN")
// rule O20 [guess] Behaviour connectBinding "upnOrMail": connect also binds by principalName or mailAddress against a member's mail, member before guest, UPN before mail before invited address, and skips conflicts silently (the emulator's former model; no evidence)
/**
 * What connecting the organization does to its users: every Microsoft-account user whose address
 * matches a tenant identity is bound to it; the others stay "msa", i.e. disconnected. Users already
 * bound keep their identity. One identity backs at most one user, so the candidate pairs are taken
 * best first (a member before a guest, UPN before mail before invited address, then users in
 * order), skipping an identity already taken and a sign-in name another user still holds.
 * O((n + m) log(n + m)) for n users and m tenant identities. Returns the bindings made, in order;
 * throws a {@link BindingConflict}, changing nothing, when "upn" binding meets a shared UPN.
 */
export function bindMatchingUsers(
  world: World,
  mode: ConnectBinding = "upnOrMail",
  tenantUsers: readonly TenantUser[] = world.tenant.users,
): Binding[] {
  if (mode === "upn") {
    const shared = sharedPrincipalName(world);
    if (shared !== undefined) throw new BindingConflict(shared);
  }
  const index = indexTenant(world, tenantUsers);
  const taken = new Set<string>();
  const byName = new Map<string, WorldUser>();
  const candidates: Array<{ user: WorldUser; order: number; match: TenantMatch }> = [];
  world.users.forEach((user, order) => {
    byName.set(user.principalName.toLowerCase(), user);
    const bound = boundObjectId(user, index);
    if (bound !== undefined) {
      taken.add(bound);
    }
    if (user.origin !== "msa") {
      return;
    }
    const addresses = new Set([user.principalName.toLowerCase()]);
    if (mode === "upnOrMail" && user.mailAddress !== undefined) {
      addresses.add(user.mailAddress.toLowerCase());
    }
    for (const address of addresses) {
      for (const match of index.byAddress.get(address) ?? []) {
        if (mode === "upnOrMail" || isSignInMatch(match)) {
          candidates.push({ user, order, match });
        }
      }
    }
  });
  candidates.sort((a, b) => compareMatches(a.match, b.match) || a.order - b.order);

  const bindings: Binding[] = [];
  for (const { user, match } of candidates) {
    const identity = match.identity;
    const name = signInNameOf(identity.user).toLowerCase();
    const holder = byName.get(name);
    if (
      user.origin !== "msa" ||
      taken.has(identity.objectId) ||
      (holder !== undefined && holder !== user)
    ) {
      continue;
    }
    byName.delete(user.principalName.toLowerCase());
    bindings.push(bindUser(world, user, identityOf(index, identity)));
    byName.set(name, user);
    taken.add(identity.objectId);
  }
  return bindings;
}

/** Reads a world fixture (UTF-8, BOM tolerated) and validates it; errors name the file and field. */
export function loadWorld(file: string): World {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read world fixture ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new Error(`world fixture ${file} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return validateWorld(raw);
  } catch (err) {
    throw new Error(`world fixture ${file}: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Validation. Hand-written rather than a schema library so each message names the JSON path
// (`users[3].origin`) and says what is allowed; the result is a fresh copy holding only known keys.

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new Error(`invalid world: ${path === "" ? "(root)" : path} ${message}`);
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function object(value: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, `must be an object (got ${show(value)})`);
  }
  const obj = value as Obj;
  for (const key of Object.keys(obj)) {
    // "$comment" lets a fixture explain itself; JSON has no comments.
    if (!allowed.includes(key) && key !== "$comment") {
      fail(join(path, key), `is not a known field (allowed: ${allowed.join(", ")})`);
    }
  }
  return obj;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) {
    fail(path, `must be an array (got ${show(value)})`);
  }
  return value;
}

function requiredString(
  obj: Obj,
  key: string,
  path: string,
  pattern?: RegExp,
  what?: string,
): string {
  const value = obj[key];
  const at = join(path, key);
  if (typeof value !== "string" || value.trim() === "") {
    fail(at, `must be a non-empty string (got ${show(value)})`);
  }
  if (pattern !== undefined && !pattern.test(value)) {
    fail(at, `must be ${what ?? `a string matching ${pattern}`} (got ${show(value)})`);
  }
  return value;
}

function optionalString(
  obj: Obj,
  key: string,
  path: string,
  pattern?: RegExp,
  what?: string,
): string | undefined {
  return obj[key] === undefined ? undefined : requiredString(obj, key, path, pattern, what);
}

function oneOf<T extends string>(obj: Obj, key: string, path: string, allowed: readonly T[]): T {
  const value = obj[key];
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    fail(
      join(path, key),
      `must be one of ${allowed.map((a) => `"${a}"`).join(", ")} (got ${show(value)})`,
    );
  }
  return value as T;
}

function optionalOneOf<T extends string>(
  obj: Obj,
  key: string,
  path: string,
  allowed: readonly T[],
): T | undefined {
  return obj[key] === undefined ? undefined : oneOf(obj, key, path, allowed);
}

function optionalDate(obj: Obj, key: string, path: string): string | undefined {
  const value = optionalString(
    obj,
    key,
    path,
    ISO_DATE,
    "an ISO 8601 date-time such as 2025-01-31T12:00:00Z",
  );
  if (value !== undefined && Number.isNaN(Date.parse(value))) {
    fail(join(path, key), `is not a real date (got ${show(value)})`);
  }
  return value;
}

/** Throws when two entries share a key case-insensitively (Azure DevOps and Entra compare so). */
function unique(
  values: Array<string | undefined>,
  path: (i: number) => string,
  what: string,
): void {
  const seen = new Map<string, number>();
  values.forEach((value, i) => {
    if (value === undefined) {
      return;
    }
    const key = value.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      fail(path(i), `duplicates ${path(first)} (${what} must be unique, case-insensitively)`);
    }
    seen.set(key, i);
  });
}

const USER_KEYS = [
  "principalName",
  "mailAddress",
  "displayName",
  "origin",
  "license",
  "status",
  "id",
  "lastAccessedDate",
  "dateCreated",
  "originId",
  "profileEmail",
] as const;

function validateUser(value: unknown, path: string): WorldUser {
  const o = object(value, path, USER_KEYS);
  const user: WorldUser = {
    principalName: requiredString(
      o,
      "principalName",
      path,
      PRINCIPAL,
      "an address like name@domain",
    ),
    origin: oneOf(o, "origin", path, ["msa", "aad"] as const),
  };
  const mailAddress = optionalString(
    o,
    "mailAddress",
    path,
    PRINCIPAL,
    "an address like name@domain",
  );
  const displayName = optionalString(o, "displayName", path);
  const license = optionalOneOf(o, "license", path, [
    "express",
    "stakeholder",
    "advanced",
    "none",
  ] as const);
  const status = optionalOneOf(o, "status", path, ["active", "pending", "disabled"] as const);
  const id = optionalString(o, "id", path, GUID, "a GUID");
  const lastAccessedDate = optionalDate(o, "lastAccessedDate", path);
  const dateCreated = optionalDate(o, "dateCreated", path);
  const originId = optionalString(o, "originId", path, GUID, "a GUID (a tenant object id)");
  const profileEmail = optionalString(
    o,
    "profileEmail",
    path,
    PRINCIPAL,
    "an address like name@domain",
  );
  // A Microsoft account's origin id is its PUID, which the emulator derives; only a user bound to
  // a tenant identity carries an object id.
  if (originId !== undefined && user.origin !== "aad") {
    fail(
      join(path, "originId"),
      `is only allowed with origin "aad" (got origin ${show(user.origin)})`,
    );
  }
  if (mailAddress !== undefined) user.mailAddress = mailAddress;
  if (displayName !== undefined) user.displayName = displayName;
  if (license !== undefined) user.license = license;
  if (status !== undefined) user.status = status;
  if (id !== undefined) user.id = id;
  if (lastAccessedDate !== undefined) user.lastAccessedDate = lastAccessedDate;
  if (dateCreated !== undefined) user.dateCreated = dateCreated;
  if (originId !== undefined) user.originId = originId;
  if (profileEmail !== undefined) user.profileEmail = profileEmail;
  return user;
}

function optionalBoolean(obj: Obj, key: string, path: string): boolean | undefined {
  const value = obj[key];
  if (value !== undefined && typeof value !== "boolean") {
    fail(join(path, key), `must be true or false (got ${show(value)})`);
  }
  return value;
}

function validateProject(value: unknown, path: string): WorldProject {
  const o = object(value, path, ["name", "sourceControlType", "id", "gitEnabled", "tfvcEnabled"]);
  const project: WorldProject = {
    name: requiredString(o, "name", path),
    sourceControlType: oneOf(o, "sourceControlType", path, ["Git", "Tfvc"] as const),
  };
  const id = optionalString(o, "id", path, GUID, "a GUID");
  if (id !== undefined) project.id = id;
  for (const key of ["gitEnabled", "tfvcEnabled"] as const) {
    const flag = optionalBoolean(o, key, path);
    if (flag !== undefined) project[key] = flag;
  }
  return project;
}

/** Checks one tenant user (also used for users added over the control API) and returns a copy. */
export function validateTenantUser(value: unknown, path: string = "user"): TenantUser {
  const o = object(value, path, [
    "userPrincipalName",
    "mail",
    "userType",
    "displayName",
    "objectId",
    "accountEnabled",
    "externalUserState",
    "companyName",
    "otherMails",
    "proxyAddresses",
    "globalAdministrator",
  ]);
  const user: TenantUser = {
    userPrincipalName: requiredString(
      o,
      "userPrincipalName",
      path,
      PRINCIPAL,
      "a UPN like name@domain",
    ),
    userType: oneOf(o, "userType", path, ["Member", "Guest"] as const),
  };
  if (o.mail === null) {
    user.mail = null;
  } else {
    const mail = optionalString(o, "mail", path, PRINCIPAL, "an address like name@domain, or null");
    if (mail !== undefined) user.mail = mail;
  }
  const displayName = optionalString(o, "displayName", path);
  const objectId = optionalString(o, "objectId", path, GUID, "a GUID");
  if (displayName !== undefined) user.displayName = displayName;
  if (objectId !== undefined) user.objectId = objectId;
  const accountEnabled = optionalBoolean(o, "accountEnabled", path);
  if (accountEnabled !== undefined) user.accountEnabled = accountEnabled;
  const globalAdministrator = optionalBoolean(o, "globalAdministrator", path);
  if (globalAdministrator !== undefined) user.globalAdministrator = globalAdministrator;
  const externalUserState = optionalOneOf(o, "externalUserState", path, [
    "PendingAcceptance",
    "Accepted",
  ] as const);
  if (externalUserState !== undefined) user.externalUserState = externalUserState;
  if (o.companyName === null) {
    user.companyName = null;
  } else {
    const companyName = optionalString(o, "companyName", path);
    if (companyName !== undefined) user.companyName = companyName;
  }
  for (const key of ["otherMails", "proxyAddresses"] as const) {
    if (o[key] === undefined) continue;
    user[key] = array(o[key], join(path, key)).map((v, i) => {
      if (typeof v !== "string" || v.trim() === "") {
        fail(`${join(path, key)}[${i}]`, `must be a non-empty string (got ${show(v)})`);
      }
      return v;
    });
  }
  return user;
}

/**
 * Checks that `raw` is a well-formed world and returns a fresh copy of it. Throws an Error whose
 * message names the JSON path of the first bad field, e.g. `invalid world: users[2].origin must be
 * one of "msa", "aad" (got "live")`.
 */
export function validateWorld(raw: unknown): World {
  const o = object(raw, "", [
    "organization",
    "owner",
    "tenantId",
    "users",
    "projects",
    "tenant",
    "caller",
    "tokens",
    "administrators",
    "billing",
    "behaviour",
  ]);
  // Organization names: letters, digits and hyphens, not starting or ending with a hyphen.
  const organization = requiredString(
    o,
    "organization",
    "",
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i,
    "an organization name (letters, digits, inner hyphens)",
  );
  const owner = requiredString(o, "owner", "", PRINCIPAL, "a principal name like name@domain");
  const caller = requiredString(o, "caller", "", PRINCIPAL, "a principal name like name@domain");
  let tenantId: string | null;
  if (o.tenantId === null) {
    tenantId = null;
  } else {
    tenantId = requiredString(
      o,
      "tenantId",
      "",
      GUID,
      "a tenant GUID, or null for an MSA-backed organization",
    );
  }

  const users = array(o.users, "users").map((u, i) => validateUser(u, `users[${i}]`));
  // rule W1 [doc] Organization users are unique by principalName within an origin, but a Microsoft account and an Entra identity may share one (https://learn.microsoft.com/azure/devops/organizations/accounts/faq-azure-access "multiple active identities with the same UPN")
  unique(
    users.map((u) => `${u.origin}:${u.principalName}`),
    (i) => `users[${i}].principalName`,
    "principal names of one origin",
  );
  // Effective ids: users sharing a principalName would share its default id.
  unique(
    users.map((u) => userIdOf(u)),
    (i) => `users[${i}].id`,
    "user ids (users sharing a principalName need an explicit id)",
  );
  // rule W6 [obs] One tenant identity backs at most one organization user: a transfer onto a held identity first removes the holder (decompiled Azure DevOps Server 2022 Microsoft.VisualStudio.Services.Graph.dll, GraphMembersControllerBase.DetermineAndRemoveExistingMembershipsInCollection)
  unique(
    users.map((u) => u.originId),
    (i) => `users[${i}].originId`,
    "bound identities (originId)",
  );
  if (!users.some((u) => u.principalName.toLowerCase() === owner.toLowerCase())) {
    fail("owner", `${show(owner)} is not the principalName of any entry in users`);
  }

  const projects = array(o.projects, "projects").map((p, i) =>
    validateProject(p, `projects[${i}]`),
  );
  unique(
    projects.map((p) => p.name),
    (i) => `projects[${i}].name`,
    "project names",
  );
  unique(
    projects.map((p) => p.id),
    (i) => `projects[${i}].id`,
    "project ids",
  );

  const t = object(o.tenant, "tenant", ["id", "domains", "users"]);
  const tenantDomains = array(t.domains, "tenant.domains").map((d, i) => {
    if (typeof d !== "string" || !HOST_NAME.test(d)) {
      fail(`tenant.domains[${i}]`, `must be a domain name such as fabrikam.com (got ${show(d)})`);
    }
    return d;
  });
  if (tenantDomains.length === 0) {
    fail(
      "tenant.domains",
      "must list at least one domain (every tenant has its onmicrosoft.com domain)",
    );
  }
  const tenantUsers = array(t.users, "tenant.users").map((u, i) =>
    validateTenantUser(u, `tenant.users[${i}]`),
  );
  unique(
    tenantUsers.map((u) => u.userPrincipalName),
    (i) => `tenant.users[${i}].userPrincipalName`,
    "user principal names",
  );
  unique(
    tenantUsers.map((u) => u.objectId),
    (i) => `tenant.users[${i}].objectId`,
    "object ids",
  );

  const world: World = {
    organization,
    owner,
    tenantId,
    users,
    projects,
    tenant: {
      id: requiredString(t, "id", "tenant", GUID, "a tenant GUID"),
      domains: tenantDomains,
      users: tenantUsers,
    },
    caller,
  };

  if (o.tokens !== undefined) {
    if (typeof o.tokens !== "object" || o.tokens === null || Array.isArray(o.tokens)) {
      fail("tokens", `must be an object mapping token -> principalName (got ${show(o.tokens)})`);
    }
    const tokens: Record<string, string | TokenGrant> = {};
    // Entries are named by position, not by key: the keys are credentials, even in a fixture.
    Object.entries(o.tokens as Obj).forEach(([token, entry], i) => {
      const at = `tokens (entry ${i + 1})`;
      if (token === "") {
        fail(at, "has an empty token");
      }
      tokens[token] = typeof entry === "string" ? tokenPrincipalName(entry, at) : grant(entry, at);
    });
    world.tokens = tokens;
  }
  if (o.behaviour !== undefined) {
    world.behaviour = validateBehaviour(o.behaviour, "behaviour");
  }

  if (o.administrators !== undefined) {
    const administrators = array(o.administrators, "administrators").map((a, i) => {
      const at = `administrators[${i}]`;
      if (typeof a !== "string" || !PRINCIPAL.test(a)) {
        fail(at, `must be a principal name like name@domain (got ${show(a)})`);
      }
      // Project Collection Administrators is a group of the organization: only its users can be in it.
      if (!users.some((u) => u.principalName.toLowerCase() === a.toLowerCase())) {
        fail(at, `${show(a)} is not the principalName of any entry in users`);
      }
      return a;
    });
    unique(administrators, (i) => `administrators[${i}]`, "administrators");
    world.administrators = administrators;
  }
  if (o.billing === null) {
    world.billing = null;
  } else if (o.billing !== undefined) {
    world.billing = validateBilling(o.billing, "billing");
  }
  return world;
}

function tokenPrincipalName(value: unknown, at: string): string {
  if (typeof value !== "string" || !PRINCIPAL.test(value)) {
    fail(at, `must map to a principal name like name@domain (got ${show(value)})`);
  }
  return value;
}

/** A token entry in object form; the token is never echoed, only the entry's position. */
function grant(value: unknown, at: string): TokenGrant {
  const o = object(value, at, ["principalName", "scopes", "allOrganizations", "expiresAt"]);
  const result: TokenGrant = {
    principalName: tokenPrincipalName(o.principalName, `${at}.principalName`),
  };
  if (o.scopes !== undefined) {
    result.scopes = array(o.scopes, `${at}.scopes`).map((scope, i) => {
      if (typeof scope !== "string" || !/^vso\.[a-z_]+$/.test(scope)) {
        fail(
          `${at}.scopes[${i}]`,
          `must be a scope such as "vso.graph_manage" (got ${show(scope)})`,
        );
      }
      return scope;
    });
  }
  const allOrganizations = optionalBoolean(o, "allOrganizations", at);
  if (allOrganizations !== undefined) result.allOrganizations = allOrganizations;
  const expiresAt = optionalDate(o, "expiresAt", at);
  if (expiresAt !== undefined) result.expiresAt = expiresAt;
  return result;
}

function validateBilling(value: unknown, path: string): WorldBilling {
  const o = object(value, path, ["subscriptionId", "subscriptionTenantId", "status"]);
  const billing: WorldBilling = {
    subscriptionId: requiredString(o, "subscriptionId", path, GUID, "a subscription GUID"),
    subscriptionTenantId: requiredString(
      o,
      "subscriptionTenantId",
      path,
      GUID,
      "the GUID of the tenant the subscription trusts",
    ),
  };
  const status = optionalString(o, "status", path);
  if (status !== undefined) billing.status = status;
  return billing;
}
