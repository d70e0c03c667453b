/**
 * The azuread invokes the program makes, answered from an emulated tenant exactly as the real
 * provider answers them (hashicorp/terraform-provider-azuread internal/services/…, bridged by
 * `@pulumi/azuread`). Shared by the Pulumi mocks and the end-to-end stand-in, which answer the same
 * invokes from the same world; each rule is tagged (docs/test-doubles.md).
 */
import { createHash } from "node:crypto";
import { type NormalizedTenantUser, type TenantUser, normalizeTenantUser } from "../emulator/world";
import { externalUserStateOf, initialDomain } from "./entraGraph";

/** The tenant an invoke reads: raw users (their unset fields matter to Graph, e.g. externalUserState). */
export interface InvokeTenant {
  readonly id: string;
  readonly domains: readonly string[];
  readonly users: readonly TenantUser[];
}

/** An invoke the real provider refuses: its error text. */
export class InvokeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvokeError";
  }
}

/** base64url(SHA-1) of the names joined by "/": how the data sources derive their ids. */
function hashId(names: readonly string[]): string {
  return createHash("sha1").update(names.join("/"), "utf8").digest("base64url");
}

// ---------------------------------------------------------------------------------------------
// getClientConfig

/** The signed-in principal of the doubles (fixed test values). */
export const CLIENT = {
  clientId: "00000000-0000-0000-0000-0000000000c1",
  objectId: "00000000-0000-0000-0000-0000000000c2",
} as const;

export function clientConfigResult(tenantId: string): Record<string, string> {
  // rule Z11 [obs] hashicorp/terraform-provider-azuread internal/services/serviceprincipals/client_config_data_source.go: id "<tenant>-<client>-<object>", tenant_id, client_id, object_id of the signed-in principal (the ids are fixed test values)
  return { id: `${tenantId}-${CLIENT.clientId}-${CLIENT.objectId}`, ...CLIENT, tenantId };
}

// ---------------------------------------------------------------------------------------------
// getDomains

interface Domain {
  adminManaged: boolean;
  authenticationType: string;
  default: boolean;
  domainName: string;
  initial: boolean;
  root: boolean;
  supportedServices: string[];
  verified: boolean;
}

/** The tenant's domains with Graph's flags. */
function domainsOf(tenant: InvokeTenant, unverified: ReadonlySet<string>): Domain[] {
  const verified = tenant.domains.filter((d) => !unverified.has(d.toLowerCase()));
  const initial = initialDomain(tenant.domains);
  return tenant.domains.map((d) => {
    const isVerified = !unverified.has(d.toLowerCase());
    // rule Z24 [guess] the default domain is the first verified one, every domain admin-managed, Managed, supporting Email; a domain is root when verified and no other domain of the tenant is its parent (learn.microsoft.com/graph/api/resources/domain isRoot)
    return {
      adminManaged: true,
      authenticationType: "Managed",
      default: d === verified[0],
      domainName: d,
      initial: d === initial,
      root:
        isVerified && !tenant.domains.some((p) => d.toLowerCase().endsWith(`.${p.toLowerCase()}`)),
      supportedServices: ["Email"],
      verified: isVerified,
    };
  });
}

/** Filters of getDomains that may not be combined (the provider's ConflictsWith). */
const FILTER_CONFLICTS: readonly (readonly [string, string])[] = [
  ["includeUnverified", "onlyDefault"],
  ["includeUnverified", "onlyInitial"],
  ["onlyDefault", "onlyInitial"],
  ["onlyDefault", "onlyRoot"],
  ["onlyInitial", "onlyRoot"],
];

/** Whether a domain passes the filters (as the provider filters the unfiltered list). */
function passes(d: Domain, inputs: Record<string, unknown>): boolean {
  const needs = (inputs.supportsServices as string[] | undefined) ?? [];
  return (
    (inputs.adminManaged !== true || d.adminManaged) &&
    (inputs.onlyDefault !== true || d.default) &&
    (inputs.onlyInitial !== true || d.initial) &&
    (inputs.onlyRoot !== true || d.root) &&
    (inputs.includeUnverified === true || d.verified) &&
    needs.every((s) => d.supportedServices.includes(s))
  );
}

/**
 * `azuread.getDomains(inputs)`. `unverified`: domains of the world that are not verified (lower
 * case); the world's domains are verified unless a scenario says otherwise.
 */
export function domainsResult(
  tenant: InvokeTenant,
  inputs: Record<string, unknown>,
  unverified: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  // rule Z12 [obs] hashicorp/terraform-provider-azuread internal/services/domains/domains_data_source.go: filters admin_managed, only_default, only_initial, only_root, supports_services; unverified domains only with include_unverified; ConflictsWith pairs; "No domains found for the provided filters"; id "domains#<tenant>#<hash of the names>"
  for (const [a, b] of FILTER_CONFLICTS) {
    if (inputs[a] === true && inputs[b] === true) {
      throw new InvokeError(`"${a}": conflicts with ${b}`);
    }
  }
  const domains = domainsOf(tenant, unverified).filter((d) => passes(d, inputs));
  if (domains.length === 0) throw new InvokeError("No domains found for the provided filters");
  const id = `domains#${tenant.id}#${hashId(domains.map((d) => d.domainName))}`;
  return { ...inputs, id, domains };
}

// ---------------------------------------------------------------------------------------------
// getUsers

/** One user as `azuread.getUsers` lists it. */
export function listedUser(u: NormalizedTenantUser): {
  accountEnabled: boolean;
  displayName: string;
  employeeId: string;
  mail: string;
  mailNickname: string;
  objectId: string;
  onpremisesImmutableId: string;
  onpremisesSamAccountName: string;
  onpremisesUserPrincipalName: string;
  usageLocation: string;
  userPrincipalName: string;
} {
  // rule Z13 [obs] hashicorp/terraform-provider-azuread internal/services/users/users_data_source.go: $select accountEnabled, displayName, employeeId, id, mail, mailNickname, onPremises*, usageLocation, userPrincipalName, userType, but user_type is not in the output; null fields come out "" (GetOrZero)
  return {
    accountEnabled: u.accountEnabled,
    displayName: u.displayName,
    // rule Z37 [guess] the world holds no employeeId, on-premises attributes or usageLocation (all ""); mailNickname is the UPN's local part (a guest's is alias_domain#EXT#)
    employeeId: "",
    mail: u.mail ?? "",
    mailNickname: u.userPrincipalName.split("@")[0],
    objectId: u.objectId,
    onpremisesImmutableId: "",
    onpremisesSamAccountName: "",
    onpremisesUserPrincipalName: "",
    usageLocation: "",
    userPrincipalName: u.userPrincipalName,
  };
}

/** The whole `azuread.getUsers({ returnAll: true })` answer for the tenant. */
export function getUsersResult(tenant: InvokeTenant): Record<string, unknown> {
  // rule Z35 [obs] hashicorp/terraform-provider-azuread internal/services/users/users_data_source.go: return_all lists every user (go-azure-sdk's ListUsers follows the pages), fails with "No users found" on none; every selected user carries mail and mailNickname, so mails/mailNicknames stay aligned with users ("" for null); id "users#<hash of the UPNs>"
  if (tenant.users.length === 0) throw new InvokeError("No users found");
  const listed = tenant.users.map((u) => listedUser(normalizeTenantUser(u, tenant.id)));
  return {
    id: `users#${hashId(listed.map((u) => u.userPrincipalName))}`,
    returnAll: true,
    ignoreMissing: false,
    users: listed,
    objectIds: listed.map((u) => u.objectId),
    userPrincipalNames: listed.map((u) => u.userPrincipalName),
    mails: listed.map((u) => u.mail),
    mailNicknames: listed.map((u) => u.mailNickname),
    employeeIds: listed.map((u) => u.employeeId),
  };
}

/** The doubles answer only the one paged scan the program makes. */
export function requireReturnAll(inputs: Record<string, unknown>): void {
  // rule Z25 [deviates] hashicorp/terraform-provider-azuread internal/services/users/users_data_source.go also looks users up by mails, user_principal_names, object_ids, mail_nicknames or employee_ids (one Graph request per value); the doubles refuse those so that a program that scans per address fails its tests (the program's choice)
  if (inputs.returnAll !== true) {
    throw new InvokeError(
      `the azuread doubles answer getUsers only with returnAll: true (got ${JSON.stringify(inputs)})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// getUser

/** getUser's lookups, in the order the provider tries them. */
const LOOKUPS = ["userPrincipalName", "objectId", "mail", "mailNickname", "employeeId"] as const;
type Lookup = (typeof LOOKUPS)[number];

/** The one lookup given; the provider's ExactlyOneOf refuses none or several. */
function lookupOf(inputs: Record<string, unknown>): Lookup {
  const given = LOOKUPS.filter((k) => typeof inputs[k] === "string" && inputs[k] !== "");
  // rule Z14 [obs] hashicorp/terraform-provider-azuread internal/services/users/user_data_source.go: ExactlyOneOf employee_id, mail, mail_nickname, object_id, user_principal_name (terraform-plugin-sdk's "one of `…` must be specified" / "only one of `…` can be specified"), looked up in that order with the provider's not-found texts (a mail lookup prints the empty UPN instead of the mail)
  const all = "`employee_id,mail,mail_nickname,object_id,user_principal_name`";
  if (given.length === 0) throw new InvokeError(`"object_id": one of ${all} must be specified`);
  if (given.length > 1) {
    throw new InvokeError(
      `"object_id": only one of ${all} can be specified, but \`${given.join(",")}\` were specified.`,
    );
  }
  return given[0];
}

/** The value a user has for a lookup ("" when none). */
function valueOf(u: NormalizedTenantUser, lookup: Lookup): string {
  if (lookup === "userPrincipalName") return u.userPrincipalName;
  if (lookup === "objectId") return u.objectId;
  if (lookup === "mail") return u.mail ?? "";
  return lookup === "mailNickname" ? listedUser(u).mailNickname : "";
}

/** The provider's error when a lookup finds nobody, or several. */
function lookupError(lookup: Lookup, value: string, found: number): InvokeError {
  // The provider's texts (Z14).
  const quoted = JSON.stringify(value);
  const texts: Record<Lookup, [none: string, several: string]> = {
    userPrincipalName: [
      `User with UPN ${quoted} was not found`,
      `More than one user found with UPN: ${quoted}`,
    ],
    objectId: [`User not found with object ID: ${quoted}`, ""],
    mail: [`User not found with mail: ""`, `More than one user found with mail: ""`],
    mailNickname: [
      `User not found with email alias: ${quoted}`,
      `More than one user found with email alias: ${quoted}`,
    ],
    employeeId: [
      `User not found with employee ID: ${quoted}`,
      `More than one user found with employee ID: ${quoted}`,
    ],
  };
  return new InvokeError(texts[lookup][found === 0 ? 0 : 1]);
}

/** `azuread.getUser(inputs)`: the one user the lookup finds, with Graph's user fields. */
export function getUserResult(
  tenant: InvokeTenant,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const lookup = lookupOf(inputs);
  const wanted = String(inputs[lookup]).toLowerCase();
  const found = tenant.users
    .map((raw) => ({ raw, user: normalizeTenantUser(raw, tenant.id) }))
    .filter(({ user }) => valueOf(user, lookup).toLowerCase() === wanted);
  if (found.length !== 1) throw lookupError(lookup, String(inputs[lookup]), found.length);
  return userFields(found[0].raw, found[0].user);
}

/** Every output of getUser: the world's fields, Graph's zero values for the rest. */
function userFields(raw: TenantUser, u: NormalizedTenantUser): Record<string, unknown> {
  const externalUserState = externalUserStateOf(raw);
  // rule Z36 [obs] hashicorp/terraform-provider-azuread internal/services/users/user_data_source.go: id is the user's resource id (d.SetId(id.ID())), external_user_state, company_name, other_mails, proxy_addresses as Graph has them, GetOrZero for null
  return {
    ...ZERO_USER_FIELDS,
    ...listedUser(u),
    // rule Z33 [guess] the id's form "/users/<object id>" (go-azure-sdk's UserId.ID()); creationType "Invitation" for an invited user
    id: `/users/${u.objectId}`,
    companyName: raw.companyName ?? "",
    creationType: externalUserState === "" ? "" : "Invitation",
    externalUserState,
    otherMails: raw.otherMails ?? [],
    proxyAddresses: raw.proxyAddresses ?? [],
    userType: u.userType,
  };
}

/** getUser's outputs the world does not model: what GetOrZero gives for Graph's nulls. */
const ZERO_USER_FIELDS: Readonly<Record<string, unknown>> = {
  ageGroup: "",
  businessPhones: [],
  city: "",
  consentProvidedForMinor: "",
  costCenter: "",
  country: "",
  department: "",
  division: "",
  employeeHireDate: "",
  employeeType: "",
  faxNumber: "",
  givenName: "",
  imAddresses: [],
  jobTitle: "",
  managerId: "",
  mobilePhone: "",
  officeLocation: "",
  onpremisesDistinguishedName: "",
  onpremisesDomainName: "",
  onpremisesSecurityIdentifier: "",
  onpremisesSyncEnabled: false,
  postalCode: "",
  preferredLanguage: "",
  showInAddressList: false,
  state: "",
  streetAddress: "",
  surname: "",
};
