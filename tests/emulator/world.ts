/**
 * The "world" an Azure DevOps emulator serves: one organization, its users and projects, and the
 * Entra ID tenant it may be connected to (DOMAIN §1 inventory, §2 APIs). Fixtures are plain JSON so
 * the program's tests and the standalone emulator share them; everything the emulator derives (ids,
 * display names) is deterministic, so two runs over one fixture answer byte-for-byte the same.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

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
}

export interface WorldProject {
  name: string;
  sourceControlType: "Git" | "Tfvc";
  id?: string;
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
   * B2B invitation state (Graph `externalUserState`, which azuread.getUser reports, DOMAIN §2):
   * an invited guest is "PendingAcceptance" until they redeem the invitation. Default "Accepted".
   * A pending user is not an *active* member, so cannot connect the organization (DOMAIN §1.4).
   */
  externalUserState?: ExternalUserState;
}

/** Graph's `externalUserState` values the emulator models. */
export type ExternalUserState = "PendingAcceptance" | "Accepted";

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
  /** Optional: token value -> principalName it authenticates as; when set, other tokens get 401. */
  tokens?: Record<string, string>;
  /**
   * Principal names of Project Collection Administrators besides the owner, who always is one.
   * Each must be an organization user. Only PCAs may change the owner (DOMAIN §1.4, §1.5).
   */
  administrators?: string[];
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
// One "@" with something on both sides. Guest UPNs (`alias_domain#EXT#@tenant.onmicrosoft.com`,
// DOMAIN §2) contain '#' and '_' but still exactly one '@'.
const PRINCIPAL = /^[^@\s]+@[^@\s]+$/;
const DOMAIN_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const guidCache = new Map<string, string>();

/**
 * A GUID derived from `seed`: the first 128 bits of its SHA-1, shaped 8-4-4-4-12. The version
 * nibble is set to 5 and the variant to RFC 4122, as for a name-based UUID, so strict validators
 * (zod's `z.uuid()`) accept the ids the emulator invents.
 */
export function deterministicGuid(seed: string): string {
  const cached = guidCache.get(seed);
  if (cached !== undefined) {
    return cached;
  }
  const bytes = createHash("sha1").update(seed, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  const guid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  // Emulated worlds hold thousands of users at most; the cap only guards a runaway bench.
  if (guidCache.size > 100_000) {
    guidCache.clear();
  }
  guidCache.set(seed, guid);
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
 * `alias_domain#EXT#@tenant.onmicrosoft.com` for alias@domain (DOMAIN §2). The last '_' before
 * `#EXT#` is the '@' (host names have no '_'; aliases may). undefined for a non-guest UPN.
 */
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
 * or the external address inside a guest UPN (DOMAIN §1.1 matching rules). Several can match
 * (a member's UPN and a stale guest's mail); callers decide which one counts.
 */
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

/** True when the address is on one of the tenant's own (verified) domains (DOMAIN §2, Entra). */
export function isOnTenantDomain(world: World, principalName: string): boolean {
  const domain = domainOf(principalName);
  return world.tenant.domains.some((d) => d.toLowerCase() === domain);
}

/** "sam.taylor@fabrikam.com" -> "sam taylor": a readable stand-in when a fixture sets no name. */
function displayNameFrom(principalName: string): string {
  const local = principalName.slice(0, principalName.indexOf("@"));
  return local.replace(/[._]+/g, " ").trim() || principalName;
}

/** A copy of the world with every id and default filled in; the input is not modified. */
export function normalizeWorld(w: World): NormalizedWorld {
  return {
    ...w,
    organizationId: deterministicGuid(`organization:${w.organization.toLowerCase()}`),
    users: w.users.map((u) => ({
      ...u,
      mailAddress: u.mailAddress ?? u.principalName,
      displayName: u.displayName ?? displayNameFrom(u.principalName),
      license: u.license ?? "express",
      status: u.status ?? "active",
      id: (u.id ?? defaultUserId(u.principalName)).toLowerCase(),
      dateCreated: u.dateCreated ?? DEFAULT_DATE_CREATED,
    })),
    projects: w.projects.map((p) => ({
      ...p,
      id: (p.id ?? defaultProjectId(w.organization, p.name)).toLowerCase(),
    })),
    tenant: {
      id: w.tenant.id,
      domains: [...w.tenant.domains],
      users: w.tenant.users.map((t) => ({
        ...t,
        mail: t.mail ?? null,
        displayName: t.displayName ?? displayNameFrom(t.userPrincipalName),
        objectId: (t.objectId ?? defaultObjectId(w.tenant.id, t.userPrincipalName)).toLowerCase(),
        accountEnabled: t.accountEnabled ?? true,
        externalUserState: t.externalUserState ?? "Accepted",
      })),
    },
    administrators: [...(w.administrators ?? [])],
    ...(w.tokens === undefined ? {} : { tokens: { ...w.tokens } }),
  };
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
  if (mailAddress !== undefined) user.mailAddress = mailAddress;
  if (displayName !== undefined) user.displayName = displayName;
  if (license !== undefined) user.license = license;
  if (status !== undefined) user.status = status;
  if (id !== undefined) user.id = id;
  if (lastAccessedDate !== undefined) user.lastAccessedDate = lastAccessedDate;
  if (dateCreated !== undefined) user.dateCreated = dateCreated;
  return user;
}

function validateProject(value: unknown, path: string): WorldProject {
  const o = object(value, path, ["name", "sourceControlType", "id"]);
  const project: WorldProject = {
    name: requiredString(o, "name", path),
    sourceControlType: oneOf(o, "sourceControlType", path, ["Git", "Tfvc"] as const),
  };
  const id = optionalString(o, "id", path, GUID, "a GUID");
  if (id !== undefined) project.id = id;
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
  if (o.accountEnabled !== undefined) {
    if (typeof o.accountEnabled !== "boolean") {
      fail(join(path, "accountEnabled"), `must be true or false (got ${show(o.accountEnabled)})`);
    }
    user.accountEnabled = o.accountEnabled;
  }
  const externalUserState = optionalOneOf(o, "externalUserState", path, [
    "PendingAcceptance",
    "Accepted",
  ] as const);
  if (externalUserState !== undefined) user.externalUserState = externalUserState;
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
  unique(
    users.map((u) => u.principalName),
    (i) => `users[${i}].principalName`,
    "principal names",
  );
  unique(
    users.map((u) => u.id),
    (i) => `users[${i}].id`,
    "user ids",
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
    if (typeof d !== "string" || !DOMAIN_NAME.test(d)) {
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
    const tokens: Record<string, string> = {};
    // Entries are named by position, not by key: the keys are credentials, even in a fixture.
    Object.entries(o.tokens as Obj).forEach(([token, principal], i) => {
      if (token === "") {
        fail(`tokens (entry ${i + 1})`, "has an empty token");
      }
      if (typeof principal !== "string" || !PRINCIPAL.test(principal)) {
        fail(
          `tokens (entry ${i + 1})`,
          `must map to a principal name like name@domain (got ${show(principal)})`,
        );
      }
      tokens[token] = principal;
    });
    world.tokens = tokens;
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
  return world;
}
