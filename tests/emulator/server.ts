/**
 * An Azure DevOps emulator: a real HTTP server on loopback that answers the REST calls the program
 * makes (DOMAIN §2), from a `World` fixture, with Microsoft's response and error shapes.
 *
 * All Azure DevOps hosts (dev.azure.com, vssps.dev.azure.com, vsaex.dev.azure.com,
 * app.vssps.visualstudio.com, azdevopscommerce.dev.azure.com), and Azure Resource Manager's
 * subscription challenge (management.azure.com), are collapsed into one base URL; the paths are the
 * real ones, so the program only rewrites the origin. Tests can inject faults (throttling, errors, latency) and read
 * back every request, in-process or over the `/_emulator/*` control endpoints.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import {
  bindMatchingUsers,
  bindUser,
  defaultUserId,
  deterministicGuid,
  externalAddressOf,
  findIdentity,
  findIdentityById,
  holdsIdentity,
  isExternalUpn,
  isOnTenantDomain,
  normalizeUser,
  normalizeWorld,
  signInNameOf,
  tenantUsersMatching,
  userIdOf,
  validateTenantUser,
  validateWorld,
  type License,
  type NormalizedTenantUser,
  type NormalizedUser,
  type NormalizedWorld,
  type TenantUser,
  type World,
  type WorldUser,
} from "./world";

export interface EmulatorOptions {
  /** The world to serve. It is validated and copied: the emulator never mutates the caller's object. */
  world: World;
  /** TCP port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Page size of user entitlements and graph users; default 100. Projects page with `$top`. */
  pageSize?: number;
  /** Called once per recorded request, after it is answered (the CLI logs with it). */
  onRequest?: (request: RecordedRequest) => void;
}

export interface FaultRule {
  /** HTTP method to match, case-insensitive; default any. */
  method?: string;
  /** A string matches as a case-insensitive substring of the decoded path (no query string). */
  path: string | RegExp;
  /** Status to answer with, e.g. 429, 500, 503. Without it (and without `body`) the request then
   * proceeds normally, so a rule with only `delayMs` models latency. */
  status?: number;
  /** Seconds, sent as `Retry-After`; 429 answers send 1 when unset. */
  retryAfter?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** JSON body to answer with instead of the default error body; with no `status`, HTTP 200. */
  body?: unknown;
  /**
   * A raw body instead (e.g. the HTML sign-in page Azure DevOps answers a refused credential with);
   * with no `status`, HTTP 200. Not together with `body`.
   */
  text?: string;
  /** Content-Type of `text`; default "text/html; charset=utf-8". */
  contentType?: string;
  /** Extra response headers, e.g. `Location` for a redirect or a replaced `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /** How many matching requests the rule hits; default 1; `Infinity` allowed. */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  /** Decoded path, without the query string. */
  path: string;
  query: Record<string, string>;
  status: number;
  /** Which Authorization scheme the request carried (not whether it was accepted). */
  auth: "basic" | "bearer" | "none";
}

/** What a successful write changed; see {@link Emulator.mutations}. */
export type MutationKind = "owner" | "tenant" | "addUser" | "removeUser" | "mapUser";

export interface Mutation {
  kind: MutationKind;
  /**
   * owner: the new owner's principalName; tenant: the tenant id connected to, or the all-zero GUID
   * for a disconnection; addUser / removeUser: the user's principalName; mapUser:
   * "<old principalName> -> <new principalName>" (both the same when the user was mapped to the
   * identity it already had). The users a connection binds are not logged one by one: the
   * "tenant" entry stands for them.
   */
  value: string;
  /** principalName of the caller (its token's principal in `world.tokens`, else `world.caller`). */
  by: string;
}

export interface Emulator {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Live state: the requests change it, tests may edit it in place; assigning validates a copy. */
  world: World;
  /** Every non-control request, in order of completion; cleared in place by `resetRequests`. */
  requests: RecordedRequest[];
  /**
   * Every successful write through the REST API (owner change, connect/disconnect, entitlement add
   * and delete, identity mapping), in order, so a test can assert that nothing was done twice.
   * Control-API edits and faulted requests are not logged. Cleared in place by `resetMutations`,
   * not by assigning `world`.
   */
  mutations: Mutation[];
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  resetRequests(): void;
  resetMutations(): void;
  /**
   * Records that an organization user signed in now: sets `lastAccessedDate` (and a pending user
   * becomes active). Ownership can only move to a user who signed in once (DOMAIN §1.5). Throws
   * for an unknown or disabled user. Returns a copy of the user.
   */
  signIn(principalName: string): WorldUser;
  /**
   * The invited person redeems their B2B invitation: the tenant user whose UPN, mail or invited
   * address (inside a guest UPN) is `address` becomes `externalUserState: "Accepted"`. Throws when
   * none matches. Returns a copy of the tenant user.
   */
  redeem(address: string): TenantUser;
  /** Adds a tenant user (validated; UPN and object id must be new). Returns a copy. */
  addTenantUser(user: TenantUser): TenantUser;
  /** Removes the tenant user with that UPN, else that mail. Throws when none. Returns it. */
  removeTenantUser(upnOrMail: string): TenantUser;
  /**
   * A person creates a personal access token: from now on `token` authenticates as `principalName`
   * (an entry of `world.tokens`, created when absent). Returns the principal.
   */
  addToken(token: string, principalName: string): string;
  close(): Promise<void>;
}

const ZERO_GUID = "00000000-0000-0000-0000-000000000000";
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
/** What a raw-text fault answers with unless it says otherwise: a web page. */
const TEXT_CONTENT_TYPE = "text/html; charset=utf-8";
/** What the user entitlements API reports for a user who never signed in. */
const NEVER = "0001-01-01T00:00:00Z";
/** Fixed timestamps keep answers reproducible run to run. */
const FIXED_TIME = "2019-06-01T00:00:00Z";
const MAX_BODY_BYTES = 1024 * 1024;
/** Azure DevOps Services answers api-versions up to 7.2 today; higher ones are "out of range". */
const LATEST_API_VERSION: Version = [7, 2];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LICENSES: readonly License[] = ["express", "stakeholder", "advanced", "none"];
/** `licenseDisplayName` as the portal shows it ("express" is Basic, DOMAIN §2). */
const LICENSE_DISPLAY_NAME: Record<License, string> = {
  express: "Basic",
  stakeholder: "Stakeholder",
  advanced: "Basic + Test Plans",
  none: "No access",
};
/** License ids accepted by the `licenseId` clause of `$filter` (memberEntitlementManagement-7.1.json). */
const LICENSE_ID: Record<License, string> = {
  express: "Account-Express",
  stakeholder: "Account-Stakeholder",
  advanced: "Account-Advanced",
  none: "Account-None",
};

// ---------------------------------------------------------------------------------------------
// Microsoft's error shape. Every Azure DevOps REST error carries a serialized .NET exception:
// `{"$id":"1","innerException":null,"message","typeName","typeKey","errorCode":0,"eventId":3000}`.
// The type names below are the ones the service is known to send where public; the rest [?] are
// plausible stand-ins, kept in this one table so they can be corrected in one place.

interface VssErrorType {
  typeName: string;
  typeKey: string;
}

function vssType(namespace: string, typeKey: string, assembly: string = namespace): VssErrorType {
  return { typeName: `${namespace}.${typeKey}, ${assembly}`, typeKey };
}

const WEBAPI = "Microsoft.VisualStudio.Services.WebApi";
const FRAMEWORK = "Microsoft.TeamFoundation.Framework.Server";
const CORE = "Microsoft.TeamFoundation.Core.WebApi";
const MEM = "Microsoft.VisualStudio.Services.MemberEntitlementManagement.WebApi";
const ORGANIZATION = "Microsoft.VisualStudio.Services.Organization";

const ERRORS = {
  unauthorized: vssType(FRAMEWORK, "UnauthorizedRequestException"),
  versionNotSpecified: vssType(WEBAPI, "VssVersionNotSpecifiedException"),
  invalidVersion: vssType(WEBAPI, "VssInvalidApiVersionException"),
  versionOutOfRange: vssType(WEBAPI, "VssVersionOutOfRangeException"),
  previewRequired: vssType(WEBAPI, "VssInvalidPreviewVersionException"),
  invalidArgument: vssType(
    "Microsoft.VisualStudio.Services.Common",
    "InvalidArgumentValueException",
  ),
  // [?] no public sample of an unknown-organization or unknown-route body.
  organizationNotFound: vssType(FRAMEWORK, "HostDoesNotExistException"),
  routeNotFound: vssType(WEBAPI, "VssResourceNotFoundException"),
  memberNotFound: vssType(MEM, "MemberNotFoundException"),
  graphSubjectNotFound: vssType(
    "Microsoft.VisualStudio.Services.Graph",
    "GraphSubjectNotFoundException",
    WEBAPI,
  ),
  projectNotFoundByName: vssType(CORE, "ProjectDoesNotExistWithNameException"),
  projectNotFound: vssType(CORE, "ProjectDoesNotExistException"),
  profileNotFound: vssType(
    "Microsoft.VisualStudio.Services.Profile",
    "ProfileNotFoundException",
    WEBAPI,
  ),
  requestBlocked: vssType(FRAMEWORK, "RequestBlockedException"),
  // Organization service (DOMAIN §2 connect / change owner, undocumented). AccessCheckException is
  // the client's type for a failed permission check (mapped from the older
  // Microsoft.TeamFoundation.Framework.Server name for api-versions up to 3.0), and
  // IdentityNotFoundException a known client type; [?] which of them these calls send, and every
  // Organization type below, are guesses.
  accessDenied: vssType("Microsoft.VisualStudio.Services.Security", "AccessCheckException", WEBAPI),
  identityNotFound: vssType(
    "Microsoft.VisualStudio.Services.Identity",
    "IdentityNotFoundException",
    WEBAPI,
  ),
  ownerNeverSignedIn: vssType(ORGANIZATION, "OrganizationOwnerNotActiveException", WEBAPI),
  // Graph user mapping (DOMAIN §2 "Map / transfer a user's identity" [doc, behaviour unconfirmed]).
  // GraphBadRequestException is the Graph area's type for a refused request (public error samples
  // show it, e.g. VS860004 on graph groups; Azure DevOps Server 2022's Graph service, decompiled in
  // public repositories, throws it for an originId that is not a GUID).
  // InvalidTransferIdentityRightsRequestException is the Identity type that server throws when the
  // target identity already has memberships in the organization. [?] That Azure DevOps Services
  // sends them for this call, and the 409 (that server maps the latter to 400), are guesses.
  graphBadRequest: vssType(
    "Microsoft.VisualStudio.Services.Graph",
    "GraphBadRequestException",
    WEBAPI,
  ),
  identityAlreadyBound: vssType(
    "Microsoft.VisualStudio.Services.Identity",
    "InvalidTransferIdentityRightsRequestException",
    WEBAPI,
  ),
  alreadyConnected: vssType(ORGANIZATION, "OrganizationAlreadyLinkedToTenantException", WEBAPI),
  notConnected: vssType(ORGANIZATION, "OrganizationNotLinkedToTenantException", WEBAPI),
  tenantNotFound: vssType(ORGANIZATION, "TenantNotFoundException", WEBAPI),
  notActiveTenantMember: vssType(ORGANIZATION, "TenantLinkNotAllowedException", WEBAPI),
  msaMatchesTenantIdentity: vssType(ORGANIZATION, "MsaIdentityConflictException", WEBAPI),
  unsupportedMediaType: vssType(WEBAPI, "VssRequestContentTypeNotSupportedException"),
  requestTooLarge: vssType(WEBAPI, "VssRequestContentTooLargeException"),
  serviceError: vssType(WEBAPI, "VssServiceException"),
} as const;

function vssErrorBody(type: VssErrorType, message: string): Record<string, unknown> {
  return {
    $id: "1",
    innerException: null,
    message,
    typeName: type.typeName,
    typeKey: type.typeKey,
    errorCode: 0,
    eventId: 3000,
  };
}

type Headers = Record<string, string | string[]>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: VssErrorType,
    message: string,
    readonly headers: Headers = {},
  ) {
    super(message);
  }
}

function badRequest(message: string): HttpError {
  return new HttpError(400, ERRORS.invalidArgument, message);
}

// ---------------------------------------------------------------------------------------------
// Routing.

interface Reply {
  status: number;
  /** JSON body; undefined = no body. */
  body?: unknown;
  /** A raw body instead of `body`, sent with `contentType`. */
  text?: string;
  contentType?: string;
  headers?: Headers;
}

interface Context {
  method: string;
  /** Decoded path segments. */
  segments: string[];
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set once the request is authenticated. */
  token?: string;
}

/** `[major, minor]` */
type Version = [number, number];

interface Route {
  method: string;
  /** Segments; `{name}` captures one segment. Literals match case-insensitively, as Azure DevOps does. */
  pattern: string[];
  auth: boolean;
  /**
   * null: no api-version needed (discovery). Otherwise the highest version the resource has
   * released: a higher version without "-preview" is refused, as the service refuses it; undefined
   * accepts any well-formed version up to the latest.
   */
  apiVersion: { released?: Version } | null;
  handle(ctx: Context): Reply;
}

function route(
  method: string,
  path: string,
  auth: boolean,
  apiVersion: Route["apiVersion"],
  handle: Route["handle"],
): Route {
  return { method, pattern: path.split("/").filter((s) => s !== ""), auth, apiVersion, handle };
}

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith("{") && p.endsWith("}")) {
      params[p.slice(1, -1)] = segments[i];
    } else if (p.toLowerCase() !== segments[i].toLowerCase()) {
      return undefined;
    }
  }
  return params;
}

/** Query parameter names are case-insensitive on Azure DevOps (`continuationtoken` works). */
function queryParam(query: URLSearchParams, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of query) {
    if (key.toLowerCase() === wanted) {
      return value;
    }
  }
  return undefined;
}

function compareVersions(a: Version, b: Version): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

/**
 * The api-version may come as a query parameter or in the Accept header
 * (`application/json;api-version=7.1`), which is how Microsoft's own Node client sends it
 * (azure-devops-node-api ClientApiBase.createAcceptHeader).
 */
function checkApiVersion(ctx: Context, released: Version | undefined): void {
  const fromQuery = queryParam(ctx.query, "api-version");
  const fromAccept = /api-version\s*=\s*([^;,\s]+)/i.exec(ctx.headers.accept ?? "")?.[1];
  const version = fromQuery !== undefined && fromQuery !== "" ? fromQuery : fromAccept;
  if (version === undefined || version === "") {
    throw new HttpError(
      400,
      ERRORS.versionNotSpecified,
      `No api-version was supplied for the "${ctx.method}" request. The version must be supplied either as part of ` +
        `the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`,
    );
  }
  const match = /^(\d+)\.(\d+)(-preview(\.\d+)?)?$/i.exec(version);
  if (match === null) {
    throw new HttpError(
      400,
      ERRORS.invalidVersion,
      `The api-version '${version}' is not valid: expected {major}.{minor}[-preview[.{resourceVersion}]], e.g. 7.1 or 7.1-preview.1.`,
    );
  }
  const requested: Version = [Number(match[1]), Number(match[2])];
  if (
    compareVersions(requested, [1, 0]) < 0 ||
    compareVersions(requested, LATEST_API_VERSION) > 0
  ) {
    throw new HttpError(
      400,
      ERRORS.versionOutOfRange,
      `The requested REST API version of ${match[1]}.${match[2]} is out of range for this server. ` +
        `The latest REST API version for this server is ${LATEST_API_VERSION.join(".")}.`,
    );
  }
  if (
    match[3] === undefined &&
    released !== undefined &&
    compareVersions(requested, released) > 0
  ) {
    throw new HttpError(
      400,
      ERRORS.previewRequired,
      `The requested version "${version}" of the resource is under preview. The -preview flag must be supplied ` +
        `in the api-version for such requests. For example: "${version}-preview"`,
    );
  }
}

interface Credentials {
  scheme: RecordedRequest["auth"];
  token?: string;
}

/** Basic with any user and the token as password (a PAT), or Bearer (an Entra token), DOMAIN §2 Auth. */
function readCredentials(headers: IncomingHttpHeaders): Credentials {
  const header = headers.authorization;
  if (header === undefined) {
    return { scheme: "none" };
  }
  const [scheme, ...rest] = header.trim().split(/\s+/);
  const value = rest.join(" ");
  if (scheme.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const token = colon < 0 ? "" : decoded.slice(colon + 1);
    return token === "" ? { scheme: "basic" } : { scheme: "basic", token };
  }
  if (scheme.toLowerCase() === "bearer") {
    return value === "" ? { scheme: "bearer" } : { scheme: "bearer", token: value };
  }
  return { scheme: "none" };
}

// ---------------------------------------------------------------------------------------------
// Paging. Tokens are opaque to clients; this one is base64 of "<listing>:<offset>". Standard
// base64 (with '+', '/', '=') on purpose: a client that forgets to URL-encode it breaks here too.

function encodeToken(listing: string, offset: number): string {
  return Buffer.from(`${listing}:${offset}`, "utf8").toString("base64");
}

function decodeToken(token: string | undefined, listing: string): number {
  if (token === undefined || token === "") {
    return 0;
  }
  const match = /^([a-z]+):(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
  if (match === null || match[1] !== listing) {
    throw badRequest(`The continuation token '${token}' is not valid for this request.`);
  }
  return Number(match[2]);
}

/** Graph and project lists page through a response header; absent on the last page. */
function continuationHeader(token: string | undefined): Headers {
  return token === undefined ? {} : { "X-MS-ContinuationToken": token };
}

function positiveInteger(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
): number {
  if (value === undefined || value === "") {
    return fallback;
  }
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw badRequest(
      `The value '${value}' of query parameter ${name} is not valid: expected an integer >= ${min}.`,
    );
  }
  return Number(value);
}

// ---------------------------------------------------------------------------------------------
// Resources.

function msaPuid(principalName: string): string {
  // MSA origin ids are 16-hex-digit PUIDs, not GUIDs.
  return deterministicGuid(`msa-puid:${principalName.toLowerCase()}`)
    .replace(/-/g, "")
    .slice(0, 16)
    .toUpperCase();
}

/**
 * `<origin>.<base64url key>`: the key is the user's id for a Microsoft account, and the tenant
 * object id once the user is bound to an Entra identity (DOMAIN §1.9), so binding or mapping a user
 * changes its descriptor and the old `msa.` one no longer resolves, as a subject descriptor names
 * the identity, not the membership. An "aad" user a fixture wrote without originId keeps its id.
 */
function descriptorOf(user: WorldUser): string {
  return `${user.origin}.${Buffer.from(descriptorKey(user), "utf8").toString("base64url")}`;
}

function descriptorKey(user: WorldUser): string {
  return user.origin === "aad" && user.originId !== undefined
    ? user.originId.toLowerCase()
    : userIdOf(user);
}

/**
 * The organization user a descriptor names, or undefined. Decodes the descriptor once and compares
 * keys, without normalizing the world: O(n) string comparisons, so that mapping thousands of users
 * one request at a time stays fast (DOMAIN §1.10 puts the portal's limit at 100 users).
 */
function userByDescriptor(users: readonly WorldUser[], descriptor: string): WorldUser | undefined {
  const match = /^(msa|aad)\.([A-Za-z0-9_-]+)$/.exec(descriptor);
  if (match === null) {
    return undefined;
  }
  const key = Buffer.from(match[2], "base64url").toString("utf8");
  const user = users.find((u) => u.origin === match[1] && descriptorKey(u) === key);
  // base64url decoding is lenient; the descriptor must be exactly the one the emulator issued.
  return user !== undefined && descriptorOf(user) === descriptor ? user : undefined;
}

function graphSubjectNotFound(descriptor: string): HttpError {
  return new HttpError(
    404,
    ERRORS.graphSubjectNotFound,
    `VS860014: The graph subject with descriptor '${descriptor}' could not be found.`,
  );
}

/** What a graph user answer needs of the world (a normalized world, or a cheaper stand-in). */
type GraphView = Pick<NormalizedWorld, "organization" | "tenantId" | "tenant">;

function graphUser(view: GraphView, user: NormalizedUser, base: string): Record<string, unknown> {
  const descriptor = descriptorOf(user);
  const common = {
    subjectKind: "user",
    domain: user.origin === "msa" ? "Windows Live ID" : (view.tenantId ?? view.tenant.id),
    principalName: user.principalName,
    mailAddress: user.mailAddress,
    origin: user.origin,
    displayName: user.displayName,
    url: `${base}/${view.organization}/_apis/Graph/Users/${descriptor}`,
    descriptor,
  };
  if (user.origin === "msa") {
    return { ...common, originId: msaPuid(user.principalName) };
  }
  // An Entra-backed user carries its tenant object id and whether it is a member or a guest there.
  // A bound user names its identity by object id; one a fixture wrote as "aad" by hand is found by
  // its UPN or mail.
  const name = user.principalName.toLowerCase();
  const originId = user.originId;
  const inTenant =
    originId !== undefined
      ? view.tenant.users.find((t) => t.objectId === originId)
      : view.tenant.users.find(
          (t) => t.userPrincipalName.toLowerCase() === name || t.mail?.toLowerCase() === name,
        );
  return {
    ...common,
    originId: originId ?? inTenant?.objectId ?? deterministicGuid(`aad-object:${name}`),
    metaType:
      inTenant !== undefined
        ? inTenant.userType.toLowerCase()
        : isOnTenantDomain(view, name)
          ? "member"
          : "guest",
    directoryAlias: user.principalName.slice(0, user.principalName.indexOf("@")),
    isDeletedInOrigin: false,
  };
}

function userEntitlement(
  view: NormalizedWorld,
  user: NormalizedUser,
  base: string,
): Record<string, unknown> {
  return {
    id: user.id,
    user: graphUser(view, user, base),
    accessLevel: {
      licensingSource: "account",
      accountLicenseType: user.license,
      msdnLicenseType: "none",
      licenseDisplayName: LICENSE_DISPLAY_NAME[user.license],
      status: user.status,
      statusMessage: "",
      assignmentSource: "unknown",
    },
    lastAccessedDate: user.lastAccessedDate ?? NEVER,
    dateCreated: user.dateCreated,
    projectEntitlements: [],
    extensions: [],
    groupAssignments: [],
  };
}

/**
 * `$filter` of User Entitlements_Search (memberEntitlementManagement-7.1.json): equality clauses on
 * name, licenseId, licenseStatus and userType, joined by `and`. The service also takes `or` and
 * parentheses; the emulator refuses `or` with a 400 saying so, rather than answer wrongly.
 */
function entitlementFilter(
  filter: string,
  view: NormalizedWorld,
): (user: NormalizedUser) => boolean {
  const clause = /\s*\(?\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*\)?\s*/y;
  const conjunction = /and\s+/iy;
  const tests: Array<(user: NormalizedUser) => boolean> = [];
  let pos = 0;
  for (;;) {
    clause.lastIndex = pos;
    const match = clause.exec(filter);
    if (match === null) {
      throw badRequest(
        `The $filter '${filter}' cannot be parsed at position ${pos}: expected <field> eq '<value>' ` +
          `(the emulator supports clauses joined by 'and', not 'or').`,
      );
    }
    pos = clause.lastIndex;
    const field = match[1].toLowerCase();
    const value = match[2].replace(/''/g, "'").toLowerCase();
    switch (field) {
      case "name":
        tests.push((u) =>
          [u.principalName, u.displayName, u.mailAddress].some((s) =>
            s.toLowerCase().includes(value),
          ),
        );
        break;
      case "licenseid":
        tests.push((u) => LICENSE_ID[u.license].toLowerCase() === value);
        break;
      case "licensestatus":
        tests.push((u) => u.status === value);
        break;
      case "usertype":
        if (value !== "member" && value !== "guest") {
          throw badRequest(
            `The $filter value '${match[2]}' of userType is not valid: expected 'member' or 'guest'.`,
          );
        }
        // [?] The service's classification in an MSA-backed organization is unconfirmed. The
        // emulator calls a user a guest when its address is not on one of the tenant's domains,
        // whatever its origin, which is what the program means by "external".
        tests.push((u) => isOnTenantDomain(view, u.principalName) === (value === "member"));
        break;
      default:
        throw badRequest(
          `The $filter field '${match[1]}' is not supported. Valid fields: licenseId, licenseStatus, userType, name.`,
        );
    }
    if (pos >= filter.length) {
      break;
    }
    conjunction.lastIndex = pos;
    if (conjunction.exec(filter) === null) {
      throw badRequest(
        `The $filter '${filter}' cannot be parsed at position ${pos}: expected 'and' (the emulator does not support 'or').`,
      );
    }
    pos = conjunction.lastIndex;
  }
  return (user) => tests.every((t) => t(user));
}

/** `$orderBy`: "name", "dateCreated" or "lastAccessed", then optional "asc" / "desc". */
function entitlementOrder(orderBy: string): (a: NormalizedUser, b: NormalizedUser) => number {
  const match = /^\s*(name|dateCreated|lastAccessed)(?:\s+(asc|desc))?\s*$/i.exec(orderBy);
  if (match === null) {
    throw badRequest(
      `The $orderBy '${orderBy}' is not valid. Valid properties: dateCreated, lastAccessed, name; then asc or desc.`,
    );
  }
  const key = (u: NormalizedUser): string => {
    switch (match[1].toLowerCase()) {
      case "name":
        return u.displayName.toLowerCase();
      case "datecreated":
        return new Date(u.dateCreated).toISOString();
      default:
        return u.lastAccessedDate === undefined ? "" : new Date(u.lastAccessedDate).toISOString();
    }
  };
  const sign = match[2]?.toLowerCase() === "desc" ? -1 : 1;
  return (a, b) => sign * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

interface AddFailure {
  key: string;
  value: string;
}

/** DOMAIN §2: entitlement adds that fail for business reasons answer HTTP 200 with isSuccess:false. */
function addFailure(failure: AddFailure): Reply {
  return {
    status: 200,
    body: {
      isSuccess: false,
      userEntitlement: null,
      operationResult: { isSuccess: false, errors: [failure], userId: ZERO_GUID, result: null },
    },
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// Organization owner and tenant connection (DOMAIN §2 [obs], undocumented, fragile). The rules are
// the ones DOMAIN §1.4–1.6 states; the order of the checks is the emulator's own [?]: syntax of the
// request (400) first, as model binding runs before the action, then permission (403), then lookups.

/** The principal a request acts as: its token's entry in `world.tokens`, else `world.caller`. */
function callerOf(world: World, ctx: Context): string {
  if (world.tokens !== undefined && ctx.token !== undefined) {
    return Object.prototype.hasOwnProperty.call(world.tokens, ctx.token)
      ? world.tokens[ctx.token]
      : world.caller;
  }
  return world.caller;
}

function samePrincipal(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The owner is always a Project Collection Administrator; `administrators` lists the others. */
function isCollectionAdministrator(world: World, principal: string): boolean {
  return (
    samePrincipal(world.owner, principal) ||
    (world.administrators ?? []).some((a) => samePrincipal(a, principal))
  );
}

/** DOMAIN §1.4: a member (not a guest), enabled, whose invitation (if any) was redeemed. */
function isActiveMember(user: NormalizedTenantUser): boolean {
  return (
    user.userType === "Member" &&
    user.accountEnabled &&
    user.externalUserState !== "PendingAcceptance"
  );
}

/** `Organization/Collections/Me` (GET, and the answer of both PATCHes). */
function collectionBody(w: NormalizedWorld): Record<string, unknown> {
  const owner = w.users.find((u) => samePrincipal(u.principalName, w.owner));
  return {
    id: w.organizationId,
    name: w.organization,
    owner: owner?.id ?? defaultUserId(w.owner),
    tenantId: w.tenantId ?? ZERO_GUID,
    status: "enabled",
  };
}

/**
 * GET AzComm/BillingSetup. Fields as the public readers show them (docs/billing.md): VSTeam's sample
 * (`subscriptionId`, `updatedDateTime`, `updatedBy`, `allowedBillingOperations`, the two
 * `is…BillingEnabled` flags) and PSRule's (`subscriptionStatus`, `currentOrganizationName`,
 * `accountName`, `resourceGroupName`). [guess] Without billing the service is taken to answer 200
 * with a null `subscriptionId` and `subscriptionStatus` (both readers treat a missing or empty id as
 * "not configured", and PSRule allows a null status); the values of `accountName`,
 * `resourceGroupName` and `allowedBillingOperations` are stand-ins.
 */
function billingSetup(w: NormalizedWorld, organizationId: string): Reply {
  // [guess] An id that is not this organization's: the "host does not exist" answer of other calls.
  if (organizationId.toLowerCase() !== w.organizationId) {
    throw new HttpError(
      404,
      ERRORS.organizationNotFound,
      `The organization with id '${organizationId}' does not exist (this emulator serves '${w.organization}', id ${w.organizationId}).`,
    );
  }
  const billing = w.billing ?? undefined;
  const common = {
    currentOrganizationName: w.organization,
    isEnterpriseBillingEnabled: false,
    updatedDateTime: FIXED_TIME,
    updatedBy: deterministicGuid(`billing-updated-by:${w.organization}`),
  };
  if (billing === undefined) {
    return {
      status: 200,
      body: {
        ...common,
        subscriptionId: null,
        subscriptionStatus: null,
        isAssignmentBillingEnabled: false,
        allowedBillingOperations: 0,
        accountName: null,
        resourceGroupName: null,
      },
    };
  }
  return {
    status: 200,
    body: {
      ...common,
      subscriptionId: billing.subscriptionId.toLowerCase(),
      subscriptionStatus: billing.status ?? "active",
      isAssignmentBillingEnabled: true,
      allowedBillingOperations: 7,
      accountName: w.organization,
      resourceGroupName: `VisualStudioOnline-${billing.subscriptionId.replace(/-/g, "").slice(0, 16).toUpperCase()}`,
    },
  };
}

/** Azure Resource Manager's error body. */
function armError(status: number, code: string, message: string, headers: Headers = {}): Reply {
  return { status, headers, body: { error: { code, message } } };
}

/**
 * GET /subscriptions/{id} on Azure Resource Manager. Without a Bearer token: 401 with the challenge
 * naming the subscription's tenant, in the shape public code records for ARM
 * (`authorization_uri="https://login.windows.net/<tenant>"`, `error="invalid_token"`; docs/billing.md).
 * With one: the documented Subscription, `tenantId` included. [guess] The emulator takes any Bearer
 * token as a valid ARM token, and answers 404 for a subscription other than the world's billing one
 * (ARM's answer to an unauthenticated request for an unknown subscription is not known).
 */
function armSubscription(world: World, ctx: Context): Reply {
  const id = ctx.params.subscriptionId;
  if ((queryParam(ctx.query, "api-version") ?? "") === "") {
    return armError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  if (!GUID.test(id)) {
    return armError(
      400,
      "InvalidSubscriptionId",
      `The provided subscription identifier '${id}' is malformed or invalid.`,
    );
  }
  const billing = world.billing ?? undefined;
  if (billing === undefined || billing.subscriptionId.toLowerCase() !== id.toLowerCase()) {
    return armError(404, "SubscriptionNotFound", `The subscription '${id}' could not be found.`);
  }
  const tenantId = billing.subscriptionTenantId.toLowerCase();
  const credentials = readCredentials(ctx.headers);
  if (credentials.scheme !== "bearer" || credentials.token === undefined) {
    const missing = credentials.scheme === "none";
    return armError(
      401,
      missing ? "AuthenticationFailed" : "InvalidAuthenticationToken",
      missing
        ? "Authentication failed. The 'Authorization' header is missing."
        : "The access token is invalid.",
      {
        "WWW-Authenticate": `Bearer authorization_uri="https://login.windows.net/${tenantId}", error="invalid_token", error_description="${missing ? "The authentication failed because of missing 'Authorization' header." : "The access token is invalid."}"`,
      },
    );
  }
  return {
    status: 200,
    body: {
      id: `/subscriptions/${id.toLowerCase()}`,
      subscriptionId: id.toLowerCase(),
      tenantId,
      displayName: `${world.organization} billing`,
      state: "Enabled",
      authorizationSource: "RoleBased",
    },
  };
}

/**
 * The Organization service takes a one-operation JSON patch document (DOMAIN §2):
 * `[{"from":"","op":2,"path":"/Owner","value":"<guid>"}]`. `op` is the numeric
 * `Microsoft.VisualStudio.Services.WebApi.Patch.Operation` (2 = Replace), as the portal sends it, or
 * RFC 6902's "replace"; the path compares case-insensitively. Returns the GUID, lower-cased.
 */
function patchedGuid(ctx: Context, field: string): string {
  const mediaType = (ctx.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json-patch+json" && mediaType !== "application/json") {
    throw new HttpError(
      415,
      ERRORS.unsupportedMediaType,
      `The request content type '${mediaType === "" ? "(none)" : mediaType}' is not supported: send application/json-patch+json.`,
    );
  }
  const example = `[{"from":"","op":2,"path":"/${field}","value":"<guid>"}]`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.body.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw badRequest(`The request body must be a JSON patch document (an array), e.g. ${example}.`);
  }
  if (parsed.length !== 1) {
    throw badRequest(
      `The JSON patch document must hold exactly one operation on /${field} (got ${parsed.length}), e.g. ${example}.`,
    );
  }
  const operation = asObject(parsed[0]);
  if (operation === undefined) {
    throw badRequest(`The JSON patch operation must be an object, e.g. ${example}.`);
  }
  const op = operation.op;
  if (op !== 2 && !(typeof op === "string" && op.toLowerCase() === "replace")) {
    throw badRequest(
      `The JSON patch operation ${JSON.stringify(op) ?? "(missing)"} is not supported on /${field}: only replace (op 2) is.`,
    );
  }
  if (typeof operation.path !== "string" || !samePrincipal(operation.path, `/${field}`)) {
    throw badRequest(
      `The JSON patch path ${JSON.stringify(operation.path) ?? "(missing)"} is not supported here: expected "/${field}".`,
    );
  }
  const value = operation.value;
  if (typeof value !== "string" || !GUID.test(value)) {
    throw badRequest(
      `The value ${JSON.stringify(value) ?? "(missing)"} of /${field} is not a valid GUID.`,
    );
  }
  return value.toLowerCase();
}

/** PATCH Organization/Collections/Me: change the owner (DOMAIN §1.5, §2). */
function changeOwner(state: State, ctx: Context): Reply {
  const value = patchedGuid(ctx, "Owner");
  const caller = callerOf(state.world, ctx);
  if (!isCollectionAdministrator(state.world, caller)) {
    throw new HttpError(
      403,
      ERRORS.accessDenied,
      `Access Denied: ${caller} needs the following permission(s) on the resource Organization to perform this ` +
        `action: Edit collection-level information. Only Project Collection Administrators can change the owner.`,
    );
  }
  const w = normalizeWorld(state.world);
  const next = w.users.find((u) => u.id === value);
  if (next === undefined) {
    throw new HttpError(
      404,
      ERRORS.identityNotFound,
      `The identity '${value}' is not a user of the organization '${w.organization}'.`,
    );
  }
  if (next.lastAccessedDate === undefined) {
    throw new HttpError(
      400,
      ERRORS.ownerNeverSignedIn,
      `The user '${next.principalName}' cannot become the owner: a new owner must have signed in to the organization at least once.`,
    );
  }
  const previous = state.world.owner;
  state.world.owner = next.principalName;
  // The previous owner keeps administering the organization (it stays in Project Collection
  // Administrators), which is what lets the seed's temporary owner hand ownership back (§1.5).
  if (
    !samePrincipal(previous, next.principalName) &&
    !isCollectionAdministrator(state.world, previous)
  ) {
    (state.world.administrators ??= []).push(previous);
  }
  // A repeated transfer to the same owner is accepted and logged, so a test sees the repetition.
  state.mutations.push({ kind: "owner", value: next.principalName, by: caller });
  return { status: 200, body: collectionBody(normalizeWorld(state.world)) };
}

/** PATCH Organization/Organizations/Me: connect to a tenant, or disconnect (all-zero GUID). */
function connectTenant(state: State, ctx: Context): Reply {
  const value = patchedGuid(ctx, "TenantId");
  const caller = callerOf(state.world, ctx);
  const w = normalizeWorld(state.world);
  const isOwner = samePrincipal(w.owner, caller);
  if (value === ZERO_GUID) {
    if (!isOwner) {
      throw new HttpError(
        403,
        ERRORS.accessDenied,
        `Access Denied: only the owner of the organization '${w.organization}' can disconnect it from its Microsoft Entra tenant; ${caller} is not the owner.`,
      );
    }
    if (w.tenantId === null) {
      throw new HttpError(
        400,
        ERRORS.notConnected,
        `The organization '${w.organization}' is not connected to a Microsoft Entra tenant.`,
      );
    }
    state.world.tenantId = null;
  } else {
    // The portal greys "Connect" out for a connected organization (DOMAIN §1.6): switching tenant
    // is a different operation the program never performs.
    if (w.tenantId !== null) {
      throw new HttpError(
        400,
        ERRORS.alreadyConnected,
        `The organization '${w.organization}' is already connected to the Microsoft Entra tenant '${w.tenantId}'.`,
      );
    }
    if (value !== w.tenant.id.toLowerCase()) {
      throw new HttpError(
        404,
        ERRORS.tenantNotFound,
        `The Microsoft Entra tenant '${value}' could not be found.`,
      );
    }
    // DOMAIN §1.4 says a Project Collection Administrator may connect; §3 reports that the tenant
    // is only offered to an owner who is a tenant member. The emulator enforces the stricter rule.
    if (!isOwner) {
      throw new HttpError(
        403,
        ERRORS.accessDenied,
        `Access Denied: only the owner of the organization '${w.organization}' can connect it to a Microsoft Entra tenant; ${caller} is not the owner.`,
      );
    }
    // DOMAIN §1.4 / §3: the exact message users report when connecting as a guest.
    if (!tenantUsersMatching(w.tenant.users, caller).some(isActiveMember)) {
      throw new HttpError(
        403,
        ERRORS.notActiveTenantMember,
        "Only active members of the AAD tenant are allowed to perform the link",
      );
    }
    // DOMAIN §1.4 last bullet: an MSA whose address is the UPN of a (non-invited) tenant identity
    // cannot perform the connection; the seed's temporary owner (§1.5) exists for this case.
    const callerUser = w.users.find((u) => samePrincipal(u.principalName, caller));
    const twin = w.tenant.users.find(
      (t) => !isExternalUpn(t.userPrincipalName) && samePrincipal(t.userPrincipalName, caller),
    );
    if (callerUser?.origin === "msa" && twin !== undefined) {
      throw new HttpError(
        400,
        ERRORS.msaMatchesTenantIdentity,
        `The Microsoft account '${callerUser.principalName}' has the same address as the Microsoft Entra identity ` +
          `'${twin.userPrincipalName}': connect while signed in as another owner whose Microsoft account differs from ` +
          `every tenant identity, then transfer ownership back.`,
      );
    }
    state.world.tenantId = value;
    // DOMAIN §1.9: the connection binds every user who matches a tenant identity; the others are
    // "disconnected" until mapped. A disconnection (above) unbinds nobody: the service keeps the
    // identities it resolved [?].
    bindMatchingUsers(state.world);
  }
  state.mutations.push({ kind: "tenant", value, by: caller });
  return { status: 200, body: collectionBody(normalizeWorld(state.world)) };
}

// ---------------------------------------------------------------------------------------------
// Map / transfer a user's identity (DOMAIN §2 [doc, behaviour unconfirmed]; graph-7.1.json
// Users_Update): `PATCH {org}/_apis/graph/users/{descriptor}` with a GraphUserUpdateContext
// subtype. Checks in the emulator's usual order [?]: media type (415) and body (400), permission
// (403), then the organization's tenant (400), the user (404), the target identity (404) and
// whether it is free (409).

/** The target a GraphUserUpdateContext names. */
type MappingTarget = { principalName: string } | { originId: string };

const UPDATE_CONTEXT_EXAMPLE =
  '{"principalName": "destination@contoso.com"} (GraphUserPrincipalNameUpdateContext) or ' +
  '{"originId": "<Entra object id>"} (GraphUserOriginIdUpdateContext)';

function graphBadRequest(message: string): HttpError {
  return new HttpError(400, ERRORS.graphBadRequest, message);
}

/** Reads and checks the body; every refusal names what is wrong and what is expected. */
function updateContext(ctx: Context): MappingTarget {
  const mediaType = (ctx.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new HttpError(
      415,
      ERRORS.unsupportedMediaType,
      `The request content type '${mediaType === "" ? "(none)" : mediaType}' is not supported: send application/json.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.body.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (err) {
    throw graphBadRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  const body = asObject(parsed);
  if (body === undefined) {
    throw graphBadRequest(
      `The request body must be a GraphUserUpdateContext object, e.g. ${UPDATE_CONTEXT_EXAMPLE}.`,
    );
  }
  // A JSON null deserializes like an absent property.
  const principalName = body.principalName ?? undefined;
  const originId = body.originId ?? undefined;
  if (principalName === undefined && originId === undefined) {
    throw graphBadRequest(
      `The GraphUserUpdateContext sets neither principalName nor originId: send exactly one, e.g. ${UPDATE_CONTEXT_EXAMPLE}.`,
    );
  }
  if (principalName !== undefined && originId !== undefined) {
    throw graphBadRequest(
      "The GraphUserUpdateContext sets both principalName and originId: send exactly one of them.",
    );
  }
  if (principalName !== undefined) {
    if (typeof principalName !== "string") {
      throw graphBadRequest(
        `The value ${JSON.stringify(principalName)} of principalName is not valid: expected a string such as destination@contoso.com.`,
      );
    }
    if (!/^[^@\s]+@[^@\s]+$/.test(principalName.trim())) {
      throw graphBadRequest(
        `The value '${principalName}' of principalName is not a valid principal name: expected an address such as destination@contoso.com.`,
      );
    }
    return { principalName: principalName.trim() };
  }
  if (typeof originId !== "string") {
    throw graphBadRequest(
      `The value ${JSON.stringify(originId)} of originId is not valid: expected the Entra object id as a GUID string.`,
    );
  }
  if (!GUID.test(originId.trim())) {
    throw graphBadRequest(
      `Cannot parse the value '${originId}' of originId: expected a GUID (the object id of the Entra user).`,
    );
  }
  return { originId: originId.trim().toLowerCase() };
}

/** PATCH graph/users/{descriptor}: bind the user to another tenant identity. */
function mapUser(state: State, ctx: Context): Reply {
  const target = updateContext(ctx);
  const world = state.world;
  const caller = callerOf(world, ctx);
  // Transferring identity rights checks a collection-level Identity permission that Project
  // Collection Administrators hold [?]; the portal's "Resolve" page is theirs (DOMAIN §1.9).
  if (!isCollectionAdministrator(world, caller)) {
    throw new HttpError(
      403,
      ERRORS.accessDenied,
      `Access Denied: ${caller} needs the following permission(s) on the resource Identity to perform this action: ` +
        `Manage identities. Only Project Collection Administrators can map users to another identity.`,
    );
  }
  if (world.tenantId === null) {
    throw new HttpError(
      400,
      ERRORS.notConnected,
      `The organization '${world.organization}' is not connected to a Microsoft Entra tenant: users can only be ` +
        `mapped to identities of the tenant it is connected to. Connect it first.`,
    );
  }
  const user = userByDescriptor(world.users, ctx.params.descriptor);
  if (user === undefined) {
    throw graphSubjectNotFound(ctx.params.descriptor);
  }
  // The emulator models one tenant; an organization connected to another (a test may set any
  // tenantId) has none of its identities.
  const ownTenant = samePrincipal(world.tenantId, world.tenant.id);
  const identity = !ownTenant
    ? undefined
    : "principalName" in target
      ? findIdentity(world, target.principalName)
      : findIdentityById(world, target.originId);
  if (identity === undefined) {
    throw new HttpError(
      404,
      ERRORS.identityNotFound,
      "principalName" in target
        ? `The identity '${target.principalName}' could not be found in the Microsoft Entra tenant '${world.tenantId}'.`
        : `No identity with object id '${target.originId}' could be found in the Microsoft Entra tenant '${world.tenantId}'.`,
    );
  }

  const from = user.principalName;
  if (!holdsIdentity(user, identity)) {
    const to = signInNameOf(identity);
    const lower = to.toLowerCase();
    // One identity backs one organization user (DOMAIN §1.9): a transfer onto an identity that
    // another user holds, or whose sign-in name another user still has, is refused, naming both.
    // One pass over the users, no index: the length test spares most of them a lower-casing.
    let holder: WorldUser | undefined;
    let what = "";
    for (const u of world.users) {
      if (u === user) {
        continue;
      }
      if (holdsIdentity(u, identity)) {
        [holder, what] = [u, "is already bound to"];
        break;
      }
      if (
        holder === undefined &&
        u.principalName.length === to.length &&
        u.principalName.toLowerCase() === lower
      ) {
        [holder, what] = [u, "has the sign-in name of"];
      }
    }
    if (holder !== undefined) {
      throw new HttpError(
        409,
        ERRORS.identityAlreadyBound,
        `Cannot map the user '${from}' to the identity '${identity.userPrincipalName}' (object id ${identity.objectId}): ` +
          `the organization user '${holder.principalName}' ${what} that identity.`,
      );
    }
    bindUser(world, user, identity);
  }
  // A repeated mapping changes nothing but is logged, so a test sees that it was sent again. [?]
  // Azure DevOps Server 2022 refuses a transfer onto the identity a user already has (400,
  // GraphBadRequestException "Cannot transfer identity to itself"); the emulator answers 200 so that
  // a re-run converges, as its other idempotent writes do.
  state.mutations.push({ kind: "mapUser", value: `${from} -> ${user.principalName}`, by: caller });
  // graphUser looks a bound user's identity up by object id: that one identity is all it needs.
  const graphView: GraphView = {
    organization: world.organization,
    tenantId: world.tenantId,
    tenant: { id: world.tenant.id, domains: world.tenant.domains, users: [identity] },
  };
  return { status: 200, body: graphUser(graphView, normalizeUser(user), state.url) };
}

// Discovery tables answered to `OPTIONS /_apis/{area}` (azure-devops-node-api VsoClient
// beginGetAreaLocations). The versions let the client's autoNegotiateApiVersion keep the versions it
// asks for: Location "7.2-preview.1", core projects "7.2-preview.4", Profile "3.2-preview.3".
const LOCATION_AREA = {
  id: "e81700f7-3be2-46de-8624-2eb35882fcaa",
  area: "Location",
  resourceName: "resourceAreas",
  routeTemplate: "_apis/{resource}/{areaId}",
  resourceVersion: 1,
  minVersion: "3.2",
  maxVersion: "7.2",
  releasedVersion: "0.0",
};
const CORE_PROJECTS = {
  id: "603fe2ac-9723-48b9-88ad-09305aa6c6e1",
  area: "core",
  resourceName: "projects",
  routeTemplate: "_apis/{resource}/{*projectId}",
  resourceVersion: 4,
  minVersion: "1.0",
  maxVersion: "7.2",
  releasedVersion: "7.1",
};
const PROFILE_PROFILES = {
  id: "f83735dc-483f-4238-a291-d45f6080a9af",
  area: "Profile",
  resourceName: "profiles",
  routeTemplate: "_apis/{area}/{resource}/{id}",
  resourceVersion: 3,
  minVersion: "3.0",
  maxVersion: "7.2",
  releasedVersion: "0.0",
};
const ROOT_AREAS: Record<string, object[]> = {
  location: [LOCATION_AREA],
  profile: [PROFILE_PROFILES],
};
const ORG_AREAS: Record<string, object[]> = { location: [LOCATION_AREA], core: [CORE_PROJECTS] };

function locations(areas: Record<string, object[]>, area: string): Reply {
  const value = areas[area.toLowerCase()];
  if (value === undefined) {
    throw new HttpError(
      404,
      ERRORS.routeNotFound,
      `The emulator serves no resource locations for area '${area}'.`,
    );
  }
  return { status: 200, body: { count: value.length, value } };
}

// ---------------------------------------------------------------------------------------------
// State, faults, control.

interface ActiveFault {
  rule: FaultRule;
  remaining: number;
}

interface State {
  world: World;
  pageSize: number;
  url: string;
  faults: ActiveFault[];
  requests: RecordedRequest[];
  mutations: Mutation[];
  onRequest?: (request: RecordedRequest) => void;
  pendingDelays: Set<{ timer: NodeJS.Timeout; resolve: () => void }>;
}

function checkFaultRule(rule: FaultRule): FaultRule {
  if (typeof rule.path !== "string" && !(rule.path instanceof RegExp)) {
    throw new Error("fault rule: path must be a string or a RegExp");
  }
  if (rule.method !== undefined && (typeof rule.method !== "string" || rule.method === "")) {
    throw new Error("fault rule: method must be a non-empty string");
  }
  if (
    rule.status !== undefined &&
    (!Number.isInteger(rule.status) || rule.status < 200 || rule.status > 599)
  ) {
    throw new Error(
      `fault rule: status must be an HTTP status 200-599 (got ${String(rule.status)})`,
    );
  }
  for (const key of ["retryAfter", "delayMs"] as const) {
    const value = rule[key];
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    ) {
      throw new Error(`fault rule: ${key} must be a finite number >= 0 (got ${String(value)})`);
    }
  }
  if (rule.text !== undefined && typeof rule.text !== "string") {
    throw new Error("fault rule: text must be a string");
  }
  if (rule.text !== undefined && rule.body !== undefined) {
    throw new Error("fault rule: give body (JSON) or text (raw), not both");
  }
  if (
    rule.contentType !== undefined &&
    (typeof rule.contentType !== "string" || rule.contentType.trim() === "")
  ) {
    throw new Error("fault rule: contentType must be a non-empty string");
  }
  if (rule.contentType !== undefined && rule.text === undefined) {
    throw new Error("fault rule: contentType only applies to a text body");
  }
  if (
    rule.headers !== undefined &&
    (asObject(rule.headers) === undefined ||
      Object.values(rule.headers).some((v) => typeof v !== "string"))
  ) {
    throw new Error("fault rule: headers must be an object of header name -> string value");
  }
  const times = rule.times ?? 1;
  if (
    typeof times !== "number" ||
    !(times === Infinity || (Number.isInteger(times) && times >= 1))
  ) {
    throw new Error(
      `fault rule: times must be an integer >= 1 or Infinity (got ${String(rule.times)})`,
    );
  }
  return { ...rule, times };
}

/** The JSON form of a rule (control endpoint): `path` as a string, or `pathRegex` (+ `flags`). */
function faultRuleFromJson(raw: unknown): FaultRule {
  const o = asObject(raw);
  if (o === undefined) {
    throw new Error("fault rule: body must be a JSON object");
  }
  const known = [
    "method",
    "path",
    "pathRegex",
    "flags",
    "status",
    "retryAfter",
    "delayMs",
    "body",
    "text",
    "contentType",
    "headers",
    "times",
  ];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new Error(
      `fault rule: unknown field(s) ${unknown.join(", ")}; allowed: ${known.join(", ")}`,
    );
  }
  let path: string | RegExp;
  if (typeof o.pathRegex === "string") {
    try {
      path = new RegExp(o.pathRegex, typeof o.flags === "string" ? o.flags : "");
    } catch (err) {
      throw new Error(
        `fault rule: pathRegex is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  } else if (typeof o.path === "string") {
    path = o.path;
  } else {
    throw new Error(
      'fault rule: give "path" (substring) or "pathRegex" (regular expression) as a string',
    );
  }
  // JSON has no Infinity: accept the string "Infinity".
  const times = o.times === "Infinity" ? Infinity : o.times;
  return checkFaultRule({
    method: o.method as string | undefined,
    path,
    status: o.status as number | undefined,
    retryAfter: o.retryAfter as number | undefined,
    delayMs: o.delayMs as number | undefined,
    body: o.body,
    text: o.text as string | undefined,
    contentType: o.contentType as string | undefined,
    headers: o.headers as Record<string, string> | undefined,
    times: times as number | undefined,
  });
}

function faultRuleToJson(fault: ActiveFault): Record<string, unknown> {
  const { method, path, status, retryAfter, delayMs, body, text, contentType, headers } =
    fault.rule;
  return {
    method,
    ...(path instanceof RegExp ? { pathRegex: path.source, flags: path.flags } : { path }),
    status,
    retryAfter,
    delayMs,
    body,
    text,
    contentType,
    headers,
    remaining: fault.remaining === Infinity ? "Infinity" : fault.remaining,
  };
}

function takeFault(state: State, method: string, path: string): FaultRule | undefined {
  const index = state.faults.findIndex(({ rule }) => {
    if (rule.method !== undefined && rule.method.toUpperCase() !== method) {
      return false;
    }
    if (rule.path instanceof RegExp) {
      rule.path.lastIndex = 0; // a /g or /y regex is stateful across test() calls
      return rule.path.test(path);
    }
    return path.toLowerCase().includes(rule.path.toLowerCase());
  });
  if (index < 0) {
    return undefined;
  }
  const fault = state.faults[index];
  fault.remaining -= 1;
  if (fault.remaining <= 0) {
    state.faults.splice(index, 1);
  }
  return fault.rule;
}

/** Headers of a throttled answer (DOMAIN §2 rate limits; Microsoft "Rate and usage limits"). */
function rateLimitHeaders(retryAfter: number): Headers {
  return {
    "Retry-After": String(retryAfter),
    "X-RateLimit-Resource": "Core",
    "X-RateLimit-Delay": retryAfter.toFixed(3),
    "X-RateLimit-Limit": "200",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Reset": String(Math.ceil(Date.now() / 1000) + retryAfter),
  };
}

function faultReply(rule: FaultRule): Reply | undefined {
  if (rule.status === undefined && rule.body === undefined && rule.text === undefined) {
    return undefined;
  }
  const status = rule.status ?? 200;
  let headers: Headers = {};
  if (status === 429) {
    headers = rateLimitHeaders(rule.retryAfter ?? 1);
  } else if (rule.retryAfter !== undefined) {
    headers["Retry-After"] = String(rule.retryAfter);
  }
  headers = { ...headers, ...rule.headers };
  if (rule.text !== undefined) {
    return { status, text: rule.text, contentType: rule.contentType ?? TEXT_CONTENT_TYPE, headers };
  }
  if (rule.body !== undefined) {
    return { status, body: rule.body, headers };
  }
  if (status === 429) {
    return {
      status,
      headers,
      body: vssErrorBody(
        ERRORS.requestBlocked,
        "Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'.",
      ),
    };
  }
  if (status >= 400) {
    return {
      status,
      headers,
      body: vssErrorBody(
        ERRORS.serviceError,
        `Injected fault: the emulator answers ${status} to this request.`,
      ),
    };
  }
  return { status, headers };
}

// ---------------------------------------------------------------------------------------------
// The server.

/** Starts an emulator on 127.0.0.1. Close it with `close()` (tests: in an `after` hook). */
export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const pageSize = opts.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new Error(`startEmulator: pageSize must be an integer >= 1 (got ${pageSize})`);
  }
  const state: State = {
    world: validateWorld(opts.world),
    pageSize,
    url: "",
    faults: [],
    requests: [],
    mutations: [],
    onRequest: opts.onRequest,
    pendingDelays: new Set(),
  };
  const routes = buildRoutes(state);

  const server = createServer((req, res) => {
    handle(state, routes, req, res).catch((err: unknown) => {
      // Only reached if writing the answer itself failed; the socket is likely gone.
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end(String(err));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: state.url,
    get world(): World {
      return state.world;
    },
    set world(world: World) {
      state.world = validateWorld(world);
    },
    requests: state.requests,
    mutations: state.mutations,
    injectFault(rule: FaultRule): void {
      const checked = checkFaultRule(rule);
      state.faults.push({ rule: checked, remaining: checked.times ?? 1 });
    },
    clearFaults(): void {
      state.faults.length = 0;
    },
    resetRequests(): void {
      state.requests.length = 0;
    },
    resetMutations(): void {
      state.mutations.length = 0;
    },
    signIn: (principalName: string): WorldUser => signIn(state, principalName),
    redeem: (address: string): TenantUser => redeem(state, address),
    addTenantUser: (user: TenantUser): TenantUser => addTenantUser(state, user),
    removeTenantUser: (upnOrMail: string): TenantUser => removeTenantUser(state, upnOrMail),
    addToken: (token: string, principalName: string): string =>
      addToken(state, token, principalName),
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const pending of state.pendingDelays) {
          clearTimeout(pending.timer);
          pending.resolve();
        }
        state.pendingDelays.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // fetch keeps connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function delay(state: State, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const pending = {
      timer: setTimeout(() => {
        state.pendingDelays.delete(pending);
        resolve();
      }, ms),
      resolve,
    };
    state.pendingDelays.add(pending);
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Headers = { ...reply.headers };
  let payload: Buffer | undefined;
  if (reply.status !== 204 && reply.status !== 304) {
    if (reply.text !== undefined) {
      payload = Buffer.from(reply.text, "utf8");
      headers["Content-Type"] = reply.contentType ?? TEXT_CONTENT_TYPE;
    } else if (reply.body !== undefined) {
      payload = Buffer.from(JSON.stringify(reply.body), "utf8");
      headers["Content-Type"] = JSON_CONTENT_TYPE;
    }
  }
  headers["Content-Length"] = String(payload?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

async function handle(
  state: State,
  routes: Route[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://emulator.invalid");
  let segments: string[];
  try {
    segments = url.pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
  } catch {
    send(res, {
      status: 400,
      body: vssErrorBody(ERRORS.invalidArgument, "The request path is not valid URL encoding."),
    });
    return;
  }
  const path = `/${segments.join("/")}`;
  const body = await readBody(req);

  if (segments[0]?.toLowerCase() === "_emulator") {
    send(res, control(state, method, segments.slice(1), body));
    return;
  }

  const credentials = readCredentials(req.headers);
  const record = (reply: Reply): void => {
    const recorded: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      status: reply.status,
      auth: credentials.scheme,
    };
    state.requests.push(recorded);
    state.onRequest?.(recorded);
    send(res, reply);
  };

  const fault = takeFault(state, method, path);
  if (fault?.delayMs !== undefined && fault.delayMs > 0) {
    await delay(state, fault.delayMs);
  }
  const faulted = fault === undefined ? undefined : faultReply(fault);
  if (faulted !== undefined) {
    record(faulted);
    return;
  }
  if (body === undefined) {
    record({
      status: 413,
      body: vssErrorBody(
        ERRORS.requestTooLarge,
        `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
      ),
    });
    return;
  }

  const ctx: Context = {
    method,
    segments,
    params: {},
    query: url.searchParams,
    headers: req.headers,
    body,
  };
  try {
    record(dispatch(state, routes, ctx, credentials));
  } catch (err) {
    if (err instanceof HttpError) {
      record({
        status: err.status,
        headers: err.headers,
        body: vssErrorBody(err.type, err.message),
      });
    } else {
      record({
        status: 500,
        body: vssErrorBody(ERRORS.serviceError, `Emulator error: ${(err as Error).message}`),
      });
    }
  }
}

function dispatch(state: State, routes: Route[], ctx: Context, credentials: Credentials): Reply {
  let pathMatched = false;
  for (const r of routes) {
    const params = matchPattern(r.pattern, ctx.segments);
    if (params === undefined) {
      continue;
    }
    pathMatched = true;
    if (r.method !== ctx.method) {
      continue;
    }
    ctx.params = params;
    if (
      params.org !== undefined &&
      params.org.toLowerCase() !== state.world.organization.toLowerCase()
    ) {
      throw new HttpError(
        404,
        ERRORS.organizationNotFound,
        `The organization '${params.org}' does not exist (this emulator serves '${state.world.organization}').`,
      );
    }
    if (r.auth) {
      authenticate(state, ctx, credentials);
    }
    if (r.apiVersion !== null) {
      checkApiVersion(ctx, r.apiVersion.released);
    }
    return r.handle(ctx);
  }
  throw new HttpError(
    404,
    ERRORS.routeNotFound,
    pathMatched
      ? `The emulator does not serve ${ctx.method} on /${ctx.segments.join("/")}.`
      : `The resource /${ctx.segments.join("/")} cannot be found.`,
  );
}

function authenticate(state: State, ctx: Context, credentials: Credentials): void {
  const tokens = state.world.tokens;
  const known =
    credentials.token !== undefined &&
    (tokens === undefined || Object.prototype.hasOwnProperty.call(tokens, credentials.token));
  if (!known) {
    const tenant = state.world.tenantId ?? "common";
    throw new HttpError(
      401,
      ERRORS.unauthorized,
      credentials.token === undefined
        ? "TF400813: Resource not available for anonymous access. Client authentication required."
        : "TF400813: The user is not authorized to access this resource.",
      {
        "WWW-Authenticate": [
          `Bearer authorization_uri=https://login.microsoftonline.com/${tenant}`,
          `Basic realm="${state.url}/"`,
        ],
      },
    );
  }
  ctx.token = credentials.token;
}

// ---------------------------------------------------------------------------------------------
// Test-side edits of the world: what happens outside the REST API (a person signs in, redeems an
// invitation; the tenant gains or loses a user, as the later azuread stand-in will do). Shared by
// the `Emulator` methods and the control endpoints; never logged as mutations.

/** A refused test-side edit; `status` is what the control endpoint answers. */
class EditError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function nonEmpty(value: unknown, what: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new EditError(400, `${what} must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  return value;
}

function signIn(state: State, principalName: unknown): WorldUser {
  const name = nonEmpty(principalName, "signIn: principalName");
  const user = state.world.users.find((u) => samePrincipal(u.principalName, name));
  if (user === undefined) {
    throw new EditError(404, `signIn: '${name}' is not a user of the organization`);
  }
  if (user.status === "disabled") {
    throw new EditError(409, `signIn: '${user.principalName}' is disabled and cannot sign in`);
  }
  user.lastAccessedDate = new Date().toISOString();
  // Added users are "pending" until their first sign-in (see addUser).
  if (user.status === "pending") {
    user.status = "active";
  }
  return structuredClone(user);
}

function redeem(state: State, address: unknown): TenantUser {
  const wanted = nonEmpty(address, "redeem: address").toLowerCase();
  const users = state.world.tenant.users;
  // The most specific match first: an exact UPN, then the mail, then the address a guest UPN encodes.
  const user =
    users.find((t) => t.userPrincipalName.toLowerCase() === wanted) ??
    users.find((t) => typeof t.mail === "string" && t.mail.toLowerCase() === wanted) ??
    users.find((t) => externalAddressOf(t.userPrincipalName) === wanted);
  if (user === undefined) {
    throw new EditError(
      404,
      `redeem: no tenant user has the UPN, mail or invited address '${wanted}'`,
    );
  }
  user.externalUserState = "Accepted";
  return structuredClone(user);
}

function addTenantUser(state: State, raw: unknown): TenantUser {
  let user: TenantUser;
  try {
    user = validateTenantUser(raw, "user");
  } catch (err) {
    throw new EditError(400, `addTenantUser: ${(err as Error).message}`);
  }
  const tenant = normalizeWorld(state.world).tenant;
  if (tenant.users.some((t) => samePrincipal(t.userPrincipalName, user.userPrincipalName))) {
    throw new EditError(
      409,
      `addTenantUser: the tenant already has a user '${user.userPrincipalName}'`,
    );
  }
  const objectId = user.objectId?.toLowerCase();
  if (objectId !== undefined && tenant.users.some((t) => t.objectId === objectId)) {
    throw new EditError(
      409,
      `addTenantUser: the tenant already has a user with object id '${objectId}'`,
    );
  }
  state.world.tenant.users.push(user);
  return structuredClone(user);
}

function removeTenantUser(state: State, upnOrMail: unknown): TenantUser {
  const wanted = nonEmpty(upnOrMail, "removeTenantUser: upnOrMail").toLowerCase();
  const users = state.world.tenant.users;
  let index = users.findIndex((t) => t.userPrincipalName.toLowerCase() === wanted);
  if (index < 0) {
    index = users.findIndex((t) => typeof t.mail === "string" && t.mail.toLowerCase() === wanted);
  }
  if (index < 0) {
    throw new EditError(404, `removeTenantUser: no tenant user has the UPN or mail '${wanted}'`);
  }
  const [removed] = users.splice(index, 1);
  return removed;
}

/**
 * A personal access token created by a person: it authenticates as that principal from now on. The
 * principal need not be an organization user yet (a Microsoft account exists before it is added).
 */
function addToken(state: State, token: unknown, principalName: unknown): string {
  const value = nonEmpty(token, "addToken: token");
  const principal = nonEmpty(principalName, "addToken: principalName");
  if (!/^[^@\s]+@[^@\s]+$/.test(principal)) {
    throw new EditError(400, `addToken: principalName must be an address like name@domain`);
  }
  const tokens = (state.world.tokens ??= {});
  if (Object.prototype.hasOwnProperty.call(tokens, value) && tokens[value] !== principal) {
    throw new EditError(409, "addToken: that token already authenticates someone else");
  }
  tokens[value] = principal;
  return principal;
}

/**
 * `/_emulator/*`: faults, requests, mutations, world; `POST signin {"principalName"}`,
 * `POST redeem {"address"}`, `POST tenant/users <TenantUser>`, `DELETE tenant/users/{upnOrMail}`,
 * `POST tokens {"token", "principalName"}`.
 * Errors answer `{"message"}` with 400 (bad input), 404 (unknown user) or 409 (conflict).
 */
function control(
  state: State,
  method: string,
  segments: string[],
  body: Buffer | undefined,
): Reply {
  const fail = (status: number, message: string): Reply => ({ status, body: { message } });
  const json = (): unknown => {
    if (body === undefined) {
      throw new Error(`request body larger than ${MAX_BODY_BYTES} bytes`);
    }
    return JSON.parse(body.toString("utf8").replace(/^\uFEFF/, ""));
  };
  const resource = `${method} ${segments.join("/").toLowerCase()}`;
  const field = (name: string): unknown => asObject(json())?.[name];
  try {
    if (
      method === "DELETE" &&
      segments.length === 3 &&
      `${segments[0]}/${segments[1]}`.toLowerCase() === "tenant/users"
    ) {
      removeTenantUser(state, segments[2]);
      return { status: 204 };
    }
    switch (resource) {
      case "POST faults": {
        const rule = faultRuleFromJson(json());
        state.faults.push({ rule, remaining: rule.times ?? 1 });
        return { status: 201, body: { pending: state.faults.length } };
      }
      case "GET faults":
        return { status: 200, body: state.faults.map(faultRuleToJson) };
      case "DELETE faults":
        state.faults.length = 0;
        return { status: 204 };
      case "GET requests":
        return { status: 200, body: state.requests };
      case "DELETE requests":
        state.requests.length = 0;
        return { status: 204 };
      case "GET world":
        return { status: 200, body: state.world };
      case "PUT world":
        state.world = validateWorld(json());
        return { status: 200, body: state.world };
      case "GET mutations":
        return { status: 200, body: state.mutations };
      case "DELETE mutations":
        state.mutations.length = 0;
        return { status: 204 };
      case "POST signin":
        return { status: 200, body: signIn(state, field("principalName")) };
      case "POST redeem":
        return { status: 200, body: redeem(state, field("address")) };
      case "POST tenant/users":
        return { status: 201, body: addTenantUser(state, json()) };
      case "POST tokens":
        addToken(state, field("token"), field("principalName"));
        // The token is not echoed: the answer names only whom it authenticates.
        return { status: 201, body: { principalName: field("principalName") } };
      default:
        return fail(404, `no control endpoint ${method} /_emulator/${segments.join("/")}`);
    }
  } catch (err) {
    return fail(err instanceof EditError ? err.status : 400, (err as Error).message);
  }
}

function buildRoutes(state: State): Route[] {
  const view = (): NormalizedWorld => normalizeWorld(state.world);
  const findUser = (id: string): NormalizedUser => {
    if (!GUID.test(id)) {
      throw badRequest(`The user id '${id}' is not a valid GUID.`);
    }
    const user = view().users.find((u) => u.id === id.toLowerCase());
    if (user === undefined) {
      throw new HttpError(
        404,
        ERRORS.memberNotFound,
        `The member with id '${id}' could not be found in the organization.`,
      );
    }
    return user;
  };
  const projectReference = (
    w: NormalizedWorld,
    p: NormalizedWorld["projects"][number],
  ): Record<string, unknown> => ({
    id: p.id,
    name: p.name,
    url: `${state.url}/${w.organization}/_apis/projects/${p.id}`,
    state: "wellFormed",
    revision: 1,
    visibility: "private",
    lastUpdateTime: FIXED_TIME,
  });
  const released71: Version = [7, 1];

  return [
    // Which tenant is the organization on (DOMAIN §2 [obs]): unauthenticated.
    route("HEAD", "/{org}", false, null, () => ({
      status: 200,
      headers: { "X-VSS-ResourceTenant": state.world.tenantId ?? ZERO_GUID },
    })),
    route("GET", "/{org}", false, null, () => ({
      status: 200,
      headers: { "X-VSS-ResourceTenant": state.world.tenantId ?? ZERO_GUID },
    })),

    // Discovery (DOMAIN §2, Microsoft's Node client). An empty resource-area list makes the client
    // use the base URL for every area, as against an on-premises server.
    route("GET", "/_apis/resourceAreas", false, null, () => ({
      status: 200,
      body: { count: 0, value: null },
    })),
    route("GET", "/{org}/_apis/resourceAreas", false, null, () => ({
      status: 200,
      body: { count: 0, value: null },
    })),
    route("OPTIONS", "/_apis/{area}", false, null, (ctx) => locations(ROOT_AREAS, ctx.params.area)),
    route("OPTIONS", "/{org}/_apis/{area}", false, null, (ctx) =>
      locations(ORG_AREAS, ctx.params.area),
    ),

    // User entitlements (memberEntitlementManagement-7.1.json, User Entitlements_*).
    route("GET", "/{org}/_apis/userentitlements", true, { released: released71 }, (ctx) => {
      const w = view();
      let users = w.users;
      const filter = queryParam(ctx.query, "$filter");
      if (filter !== undefined && filter.trim() !== "") {
        users = users.filter(entitlementFilter(filter, w));
      }
      const orderBy = queryParam(ctx.query, "$orderBy");
      if (orderBy !== undefined && orderBy.trim() !== "") {
        users = [...users].sort(entitlementOrder(orderBy));
      }
      const offset = decodeToken(queryParam(ctx.query, "continuationToken"), "entitlements");
      const next = offset + state.pageSize;
      return {
        status: 200,
        body: {
          items: users.slice(offset, next).map((u) => userEntitlement(w, u, state.url)),
          continuationToken: next < users.length ? encodeToken("entitlements", next) : null,
          totalCount: users.length,
        },
      };
    }),
    route("GET", "/{org}/_apis/userentitlements/{id}", true, { released: released71 }, (ctx) => ({
      status: 200,
      body: userEntitlement(view(), findUser(ctx.params.id), state.url),
    })),
    route("DELETE", "/{org}/_apis/userentitlements/{id}", true, { released: released71 }, (ctx) => {
      const user = findUser(ctx.params.id);
      // The organization must always have an owner: removing the current one is refused [?], which
      // also catches a cleanup that removes the temporary owner before handing ownership back.
      if (samePrincipal(state.world.owner, user.principalName)) {
        throw new HttpError(
          400,
          ERRORS.invalidArgument,
          `The user '${user.principalName}' owns the organization '${state.world.organization}' and cannot be removed; change the owner first.`,
        );
      }
      const index = view().users.findIndex((u) => u.id === user.id);
      state.world.users.splice(index, 1);
      // A removed user leaves the organization's groups too, Project Collection Administrators included.
      if (state.world.administrators !== undefined) {
        state.world.administrators = state.world.administrators.filter(
          (a) => !samePrincipal(a, user.principalName),
        );
      }
      state.mutations.push({
        kind: "removeUser",
        value: user.principalName,
        by: callerOf(state.world, ctx),
      });
      return { status: 204 };
    }),
    route("POST", "/{org}/_apis/userentitlements", true, { released: released71 }, (ctx) =>
      addUser(state, ctx),
    ),

    // Graph users (graph-7.1.json, Users_List / Users_Get): still preview, hence released 0.0.
    route("GET", "/{org}/_apis/graph/users", true, { released: [0, 0] }, (ctx) => {
      const w = view();
      const types = (queryParam(ctx.query, "subjectTypes") ?? "")
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s !== "");
      const users = types.length === 0 ? w.users : w.users.filter((u) => types.includes(u.origin));
      const offset = decodeToken(queryParam(ctx.query, "continuationToken"), "graph");
      const next = offset + state.pageSize;
      const page = users.slice(offset, next).map((u) => graphUser(w, u, state.url));
      return {
        status: 200,
        body: { count: page.length, value: page },
        headers: continuationHeader(next < users.length ? encodeToken("graph", next) : undefined),
      };
    }),
    route("GET", "/{org}/_apis/graph/users/{descriptor}", true, { released: [0, 0] }, (ctx) => {
      const w = view();
      const user = w.users.find((u) => descriptorOf(u) === ctx.params.descriptor);
      if (user === undefined) {
        throw graphSubjectNotFound(ctx.params.descriptor);
      }
      return { status: 200, body: graphUser(w, user, state.url) };
    }),
    // Map / transfer a user's identity (graph-7.1.json Users_Update; DOMAIN §1.9, §2).
    route("PATCH", "/{org}/_apis/graph/users/{descriptor}", true, { released: [0, 0] }, (ctx) =>
      mapUser(state, ctx),
    ),

    // Projects (core-7.1.json, Projects_List / Projects_Get).
    route("GET", "/{org}/_apis/projects", true, { released: released71 }, (ctx) => {
      const w = view();
      const top = positiveInteger(queryParam(ctx.query, "$top"), "$top", 100, 1);
      // The list also answers an `X-MS-ContinuationToken` (the next skip) when more remain.
      const skip = positiveInteger(
        queryParam(ctx.query, "continuationToken") ?? queryParam(ctx.query, "$skip"),
        "$skip",
        0,
        0,
      );
      const stateFilter = (queryParam(ctx.query, "stateFilter") ?? "wellFormed").toLowerCase();
      const projects = stateFilter === "wellformed" || stateFilter === "all" ? w.projects : [];
      const page = projects.slice(skip, skip + top).map((p) => projectReference(w, p));
      return {
        status: 200,
        body: { count: page.length, value: page },
        headers: continuationHeader(skip + top < projects.length ? String(skip + top) : undefined),
      };
    }),
    route("GET", "/{org}/_apis/projects/{project}", true, { released: released71 }, (ctx) => {
      const w = view();
      const wanted = ctx.params.project.toLowerCase();
      const byId = GUID.test(wanted);
      const project = w.projects.find((p) =>
        byId ? p.id === wanted : p.name.toLowerCase() === wanted,
      );
      if (project === undefined) {
        throw byId
          ? new HttpError(
              404,
              ERRORS.projectNotFound,
              `VS800075: The project with id '${ctx.params.project}' does not exist, or you do not have permission to access it.`,
            )
          : new HttpError(
              404,
              ERRORS.projectNotFoundByName,
              `TF200016: The following project does not exist: ${ctx.params.project}. Verify that the name of the ` +
                `project is correct and that the project exists on the specified Azure DevOps Server.`,
            );
      }
      const body: Record<string, unknown> = {
        ...projectReference(w, project),
        defaultTeam: {
          id: deterministicGuid(`team:${project.id}`),
          name: `${project.name} Team`,
          url: `${state.url}/_apis/projects/${project.id}/teams/${deterministicGuid(`team:${project.id}`)}`,
        },
      };
      if ((queryParam(ctx.query, "includeCapabilities") ?? "").toLowerCase() === "true") {
        const git = project.sourceControlType === "Git";
        body.capabilities = {
          versioncontrol: {
            sourceControlType: project.sourceControlType,
            gitEnabled: git ? "True" : "False",
            tfvcEnabled: git ? "False" : "True",
          },
          processTemplate: {
            templateName: "Agile",
            templateTypeId: "adcc42ab-9882-485e-a3ed-7678f01f66bc",
          },
        };
      }
      return { status: 200, body };
    }),

    // Organization owner and tenant (DOMAIN §2 [obs], undocumented; the Terraform provider's
    // client_config reads it).
    route("GET", "/{org}/_apis/Organization/Collections/Me", true, {}, () => ({
      status: 200,
      body: collectionBody(view()),
    })),
    route("PATCH", "/{org}/_apis/Organization/Collections/Me", true, {}, (ctx) =>
      changeOwner(state, ctx),
    ),
    route("PATCH", "/{org}/_apis/Organization/Organizations/Me", true, {}, (ctx) =>
      connectTenant(state, ctx),
    ),

    // Billing setup (azdevopscommerce.dev.azure.com, undocumented; docs/billing.md). Addressed by
    // the organization's GUID, hence a parameter other than {org}.
    route("GET", "/{organizationId}/_apis/AzComm/BillingSetup", true, {}, (ctx) =>
      billingSetup(view(), ctx.params.organizationId),
    ),

    // Azure Resource Manager (management.azure.com), Subscriptions - Get: its own error shape and
    // its own api-versions, so no Azure DevOps version check.
    route("GET", "/subscriptions/{subscriptionId}", false, null, (ctx) =>
      armSubscription(state.world, ctx),
    ),

    // Who am I (DOMAIN §2): app.vssps.visualstudio.com, no organization in the path.
    route("GET", "/_apis/profile/profiles/{id}", true, {}, (ctx) => {
      const w = view();
      const principal = callerOf(w, ctx);
      const user = w.users.find((u) => u.principalName.toLowerCase() === principal.toLowerCase());
      const id = user?.id ?? defaultUserId(principal);
      if (ctx.params.id.toLowerCase() !== "me" && ctx.params.id.toLowerCase() !== id) {
        throw new HttpError(
          404,
          ERRORS.profileNotFound,
          `The profile '${ctx.params.id}' could not be found.`,
        );
      }
      return {
        status: 200,
        body: {
          id,
          displayName: user?.displayName ?? principal.slice(0, principal.indexOf("@")),
          publicAlias: id,
          emailAddress: principal,
          coreRevision: 1,
          timeStamp: FIXED_TIME,
          revision: 1,
        },
      };
    }),
  ];
}

/** POST userentitlements: malformed requests are HTTP 400; refusals are HTTP 200 + isSuccess:false. */
function addUser(state: State, ctx: Context): Reply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.body.toString("utf8"));
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  const entitlement = asObject(parsed);
  if (entitlement === undefined) {
    throw badRequest(
      "Value cannot be null. Parameter name: userEntitlement (the body must be a JSON object).",
    );
  }
  const accessLevel = asObject(entitlement.accessLevel);
  if (accessLevel === undefined) {
    throw badRequest("Value cannot be null. Parameter name: accessLevel");
  }
  const user = asObject(entitlement.user);
  if (user === undefined) {
    throw badRequest("Value cannot be null. Parameter name: user");
  }
  const principalName = user.principalName;
  if (typeof principalName !== "string" || principalName.trim() === "") {
    throw badRequest("Value cannot be null or empty. Parameter name: user.principalName");
  }
  if (user.subjectKind !== undefined && String(user.subjectKind).toLowerCase() !== "user") {
    throw badRequest(
      `The value '${String(user.subjectKind)}' of user.subjectKind is not valid: expected 'user'.`,
    );
  }
  const licenseType = accessLevel.accountLicenseType;
  if (licenseType === undefined || licenseType === null) {
    throw badRequest("Value cannot be null. Parameter name: accessLevel.accountLicenseType");
  }

  // [?] Error keys: 5102 is what DOMAIN §3 reports for refused adds; 5000 for the others.
  const license = LICENSES.find((l) => l === String(licenseType).toLowerCase());
  const source = accessLevel.licensingSource;
  if (
    license === undefined ||
    (source !== undefined && String(source).toLowerCase() !== "account")
  ) {
    return addFailure({
      key: "5102",
      value: `The license '${String(licenseType)}' from licensing source '${String(source ?? "account")}' cannot be assigned.`,
    });
  }
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(principalName)) {
    return addFailure({
      key: "5000",
      value: `The principal name '${principalName}' is not a valid email address.`,
    });
  }
  const world = state.world;
  if (world.users.some((u) => u.principalName.toLowerCase() === principalName.toLowerCase())) {
    return addFailure({
      key: "5000",
      value: `The user '${principalName}' already exists in the organization.`,
    });
  }

  const added: WorldUser = {
    principalName,
    mailAddress: principalName,
    // An Entra identity only when the organization is connected and the address is the tenant's own.
    origin: world.tenantId !== null && isOnTenantDomain(world, principalName) ? "aad" : "msa",
    license,
    // Added users have not signed in yet: no lastAccessedDate, status pending until they do.
    status: "pending",
    id: defaultUserId(principalName),
    dateCreated: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
  world.users.push(added);
  state.mutations.push({ kind: "addUser", value: principalName, by: callerOf(world, ctx) });
  const view = normalizeWorld(world);
  const normalized = view.users[view.users.length - 1];
  const result = userEntitlement(view, normalized, state.url);
  return {
    status: 200,
    body: {
      isSuccess: true,
      userEntitlement: result,
      operationResult: { isSuccess: true, errors: [], userId: normalized.id, result },
    },
  };
}

/** Exposed for tests of the program that want to name a user the way the emulator does. */
export function emulatorDescriptor(world: World, principalName: string): string | undefined {
  const user = normalizeWorld(world).users.find(
    (u) => u.principalName.toLowerCase() === principalName.toLowerCase(),
  );
  return user === undefined ? undefined : descriptorOf(user);
}
