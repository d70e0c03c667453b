/**
 * The shapes of what the emulator answers: graph users, user entitlements, projects, the
 * organization collection, profiles and the discovery tables of Microsoft's Node client.
 */
import { createHash } from "node:crypto";
import { ERRORS, HttpError } from "./errors";
import {
  type License,
  type NormalizedProject,
  type NormalizedUser,
  type NormalizedWorld,
  type WorldUser,
  defaultUserId,
  deterministicGuid,
  isOnTenantDomain,
  userIdOf,
} from "./world";
import { samePrincipal, ZERO_GUID } from "./state";

/** What the user entitlements API reports for a user who never signed in. */
// rule E1 [doc] An entitlement is {id, user, accessLevel{licensingSource, accountLicenseType, msdnLicenseType none, licenseDisplayName, status, statusMessage '', assignmentSource unknown}, lastAccessedDate, dateCreated, projectEntitlements, extensions, groupAssignments}; a user who never signed in shows lastAccessedDate 0001-01-01T00:00:00Z (memberEntitlementManagement-7.1.json and its GET__memberEntitlementManagement_UserEntitlementById.json example; demisto/content Packs/AzureDevOps/Integrations/AzureDevOps/README.md)
export const NEVER = "0001-01-01T00:00:00Z";
/** Fixed timestamps keep answers reproducible run to run. */
export const FIXED_TIME = "2019-06-01T00:00:00Z";

// rule E2 [guess] licenseDisplayName: express Basic, stakeholder Stakeholder, advanced "Basic + Test Plans", none "No access" (only express → Basic and stakeholder → Stakeholder are in Microsoft's examples)
const LICENSE_DISPLAY_NAME: Record<License, string> = {
  express: "Basic",
  stakeholder: "Stakeholder",
  advanced: "Basic + Test Plans",
  none: "No access",
};

function msaPuid(principalName: string): string {
  // MSA origin ids are 16-hex-digit PUIDs, not GUIDs.
  return deterministicGuid(`msa-puid:${principalName.toLowerCase()}`)
    .replace(/-/g, "")
    .slice(0, 16)
    .toUpperCase();
}

/**
 * The internal id Azure DevOps keys an Entra-backed subject by: neither the object id nor the
 * entitlement id. Microsoft's examples show version-7-style GUIDs, which this imitates.
 */
function aadSubjectId(key: string): string {
  const hex = createHash("sha1").update(`aad-subject:${key}`, "utf8").digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// rule G2 [obs] A descriptor is "<origin>.<base64url key>": for an Entra-backed user the key is an internal id, not its object id (GetAllUsers.json and CreateUserMSA.json in graph-7.1.json's examples decode to such ids; demisto/content Packs/AzureDevOps/Integrations/AzureDevOps/README.md)
// rule G6 [guess] A Microsoft account's descriptor key is its entitlement id
function descriptorKey(user: WorldUser): string {
  if (user.origin !== "aad") return userIdOf(user);
  return aadSubjectId((user.originId ?? userIdOf(user)).toLowerCase());
}

// rule G3 [guess] Binding or mapping a user gives it a new descriptor; the old msa. descriptor no longer resolves
export function descriptorOf(user: WorldUser): string {
  return `${user.origin}.${Buffer.from(descriptorKey(user), "utf8").toString("base64url")}`;
}

/**
 * The organization user a descriptor names, or undefined. Decodes the descriptor once and compares
 * keys, without normalizing the world: O(n) string comparisons, so that mapping thousands of users
 * one request at a time stays fast.
 */
export function userByDescriptor(
  users: readonly WorldUser[],
  descriptor: string,
): WorldUser | undefined {
  const match = /^(msa|aad)\.([A-Za-z0-9_-]+)$/.exec(descriptor);
  if (match === null) {
    return undefined;
  }
  const key = Buffer.from(match[2], "base64url").toString("utf8");
  const user = users.find((u) => u.origin === match[1] && descriptorKey(u) === key);
  // base64url decoding is lenient; the descriptor must be exactly the one the emulator issued.
  return user !== undefined && descriptorOf(user) === descriptor ? user : undefined;
}

// rule G5 [obs] An unknown descriptor answers 404 GraphSubjectNotFoundException (type: actions/runner src/Sdk/WebApi/WebApi/Exceptions/GraphExceptions.cs; the VS860014 number is the emulator's)
export function graphSubjectNotFound(descriptor: string): HttpError {
  return new HttpError(
    404,
    ERRORS.graphSubjectNotFound,
    `VS860014: The graph subject with descriptor '${descriptor}' could not be found.`,
  );
}

/** What a graph user answer needs of the world (a normalized world, or a cheaper stand-in). */
export type GraphView = Pick<NormalizedWorld, "organization" | "tenantId" | "tenant">;

// rule G7 [doc] A graph user carries _links self, memberships, membershipState, storageKey and avatar (graph-7.1.json examples GetAllUsers.json, GetUserAAD.json)
function graphLinks(
  base: string,
  organization: string,
  descriptor: string,
): Record<string, unknown> {
  const graph = `${base}/${organization}/_apis/Graph`;
  return {
    self: { href: `${graph}/Users/${descriptor}` },
    memberships: { href: `${graph}/Memberships/${descriptor}` },
    membershipState: { href: `${graph}/MembershipStates/${descriptor}` },
    storageKey: { href: `${graph}/StorageKeys/${descriptor}` },
    avatar: { href: `${base}/${organization}/_apis/GraphProfile/MemberAvatars/${descriptor}` },
  };
}

// rule G1 [obs] Graph user: domain "Windows Live ID" (msa) or the tenant id (aad); an msa originId is a 16-hex PUID; an aad user carries its object id, metaType member or guest, directoryAlias and isDeletedInOrigin (graph-7.1.json GraphMember.domain; Airbyte connector test fixture with msa originId 0001ABCD123456A1; demisto/content Packs/AzureDevOps/Integrations/AzureDevOps/README.md; directoryAlias = the UPN's local part is a guess)
export function graphUser(
  view: GraphView,
  user: NormalizedUser,
  base: string,
): Record<string, unknown> {
  const descriptor = descriptorOf(user);
  const common = {
    subjectKind: "user",
    domain: user.origin === "msa" ? "Windows Live ID" : (view.tenantId ?? view.tenant.id),
    principalName: user.principalName,
    mailAddress: user.mailAddress,
    origin: user.origin,
    displayName: user.displayName,
    _links: graphLinks(base, view.organization, descriptor),
    url: `${base}/${view.organization}/_apis/Graph/Users/${descriptor}`,
    descriptor,
  };
  if (user.origin === "msa") {
    return { ...common, originId: msaPuid(user.principalName) };
  }
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

export function userEntitlement(
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

// rule O1 [obs] GET Organization/Collections/Me answers {id, name, owner (the owner's user id), tenantId (the all-zero GUID when none), status} (microsoft/terraform-provider-azuredevops sdk organization models.go; Microsoft365DSC MSFT_ADOOrganizationOwner.psm1 matches owner to an entitlement id)
export function collectionBody(
  w: NormalizedWorld,
  tenantId: string | null,
): Record<string, unknown> {
  const owner = w.users.find((u) => samePrincipal(u.principalName, w.owner));
  return {
    id: w.organizationId,
    name: w.organization,
    owner: owner?.id ?? defaultUserId(w.owner),
    tenantId: tenantId ?? ZERO_GUID,
    status: "enabled",
  };
}

// rule PR1 [doc] A project reference is {id, name, url, state wellFormed, revision, visibility, lastUpdateTime} (core-7.1.json TeamProjectReference)
export function projectReference(
  w: NormalizedWorld,
  p: NormalizedProject,
  base: string,
): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    url: `${base}/${w.organization}/_apis/projects/${p.id}`,
    state: "wellFormed",
    revision: 1,
    visibility: "private",
    lastUpdateTime: FIXED_TIME,
  };
}

// rule PR3 [obs] versioncontrol capabilities report sourceControlType and, independently, gitEnabled and tfvcEnabled ("True"/"False"): a project can hold both kinds of repositories whatever it was created with; a world project says so with gitEnabled and tfvcEnabled (capture pastebin.com/yQ5tMJav with sourceControlType Tfvc and both "True"; https://learn.microsoft.com/azure/devops/repos/tfvc/comparison-git-tfvc "You can use TFVC repos with Git in the same project")
function versionControl(p: NormalizedProject): Record<string, string> {
  const git = p.gitEnabled ?? p.sourceControlType === "Git";
  const tfvc = p.tfvcEnabled ?? p.sourceControlType === "Tfvc";
  return {
    sourceControlType: p.sourceControlType,
    gitEnabled: git ? "True" : "False",
    tfvcEnabled: tfvc ? "True" : "False",
  };
}

// rule PR4 [doc] GET of one project adds defaultTeam, and capabilities (versioncontrol, processTemplate) only with includeCapabilities=true (core-7.1.json TeamProject, Projects_Get includeCapabilities)
export function projectBody(
  w: NormalizedWorld,
  p: NormalizedProject,
  base: string,
  includeCapabilities: boolean,
): Record<string, unknown> {
  const team = deterministicGuid(`team:${p.id}`);
  const body: Record<string, unknown> = {
    ...projectReference(w, p, base),
    defaultTeam: {
      id: team,
      name: `${p.name} Team`,
      url: `${base}/_apis/projects/${p.id}/teams/${team}`,
    },
  };
  if (includeCapabilities) {
    body.capabilities = {
      versioncontrol: versionControl(p),
      processTemplate: {
        templateName: "Agile",
        templateTypeId: "adcc42ab-9882-485e-a3ed-7678f01f66bc",
      },
    };
  }
  return body;
}

// rule PR2 [obs] A project is found by GUID or by name in any case; an unknown id answers 404 ProjectDoesNotExistException "VS800075…", an unknown name 404 ProjectDoesNotExistWithNameException "TF200016…" (type keys in public clients; one decompiled server sends them as 400)
export function findProject(w: NormalizedWorld, wanted: string, guid: RegExp): NormalizedProject {
  const key = wanted.toLowerCase();
  const byId = guid.test(key);
  const project = w.projects.find((p) => (byId ? p.id === key : p.name.toLowerCase() === key));
  if (project !== undefined) return project;
  throw byId
    ? new HttpError(
        404,
        ERRORS.projectNotFound,
        `VS800075: The project with id '${wanted}' does not exist, or you do not have permission to access it.`,
      )
    : new HttpError(
        404,
        ERRORS.projectNotFoundByName,
        `TF200016: The following project does not exist: ${wanted}. Verify that the name of the ` +
          `project is correct and that the project exists on the specified Azure DevOps Server.`,
      );
}

/** A profile: the shape of Microsoft's GET__profile_profiles_me.json example. */
export function profileBody(
  id: string,
  displayName: string,
  emailAddress: string,
): Record<string, unknown> {
  return {
    displayName,
    publicAlias: id,
    emailAddress,
    coreRevision: 1,
    timeStamp: FIXED_TIME,
    id,
    revision: 1,
  };
}

// ---------------------------------------------------------------------------------------------
// Discovery, as azure-devops-node-api performs it (WebApi._getResourceAreaUrl: GET _apis/resourceAreas,
// then OPTIONS {locationUrl}/_apis/{area} for the route templates).

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

/** Resource-area ids of the areas the emulator serves (azure-devops-node-api WebApi). */
const AREA_IDS = {
  core: "79134c72-4a58-4b42-976c-04e7115f32bf",
  profile: "8ccfef3d-2b87-4e99-8ccb-66e343d2daa8",
  graph: "bb1e7ec9-e901-4b68-999a-de7012b920f8",
  memberEntitlementManagement: "68ddce18-2501-45f1-a17b-7931a9922690",
};

// rule D1 [obs] GET _apis/resourceAreas lists {id, name, locationUrl} for each area the emulator serves; every locationUrl is the emulator's one host (with the organization for organization areas), where the real service names several hosts (azure-devops-node-api WebApi._getResourceAreaUrl and LocationsInterfaces.ResourceAreaInfo; microsoft/azure-devops-python-api#188; area ids: x-ms-vss-resource-area-id of each spec)
export function resourceAreas(
  base: string,
  organization: string | undefined,
): Record<string, unknown> {
  const locationUrl = organization === undefined ? `${base}/` : `${base}/${organization}/`;
  const value = Object.entries(AREA_IDS).map(([name, id]) => ({ id, name, locationUrl }));
  return { count: value.length, value };
}

// rule D2 [obs] OPTIONS _apis/{area} answers the area's location table (Location, core projects 603fe2ac…, Profile f83735dc…); unknown area 404 (microsoft/azure-devops-python-api#188 for the profile location id; azure-devops-node-api VsoClient)
export function locations(area: string, atRoot: boolean): Record<string, unknown> {
  const value = (atRoot ? ROOT_AREAS : ORG_AREAS)[area.toLowerCase()];
  if (value === undefined) {
    throw new HttpError(
      404,
      ERRORS.routeNotFound,
      `The emulator serves no resource locations for area '${area}'.`,
    );
  }
  return { count: value.length, value };
}
