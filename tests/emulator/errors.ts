/**
 * Microsoft's error shape. Every Azure DevOps REST error carries a serialized .NET exception:
 * `{"$id":"1","innerException":null,"message","typeName","typeKey","errorCode":0,"eventId":3000}`.
 * The type names are the ones the service is known to send where public; the others are plausible
 * stand-ins, kept in this one table so they can be corrected in one place.
 */

export interface VssErrorType {
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
const GRAPH = "Microsoft.VisualStudio.Services.Graph";
const IDENTITY = "Microsoft.VisualStudio.Services.Identity";

export const ERRORS = {
  unauthorized: vssType(FRAMEWORK, "UnauthorizedRequestException"),
  versionNotSpecified: vssType(WEBAPI, "VssVersionNotSpecifiedException"),
  invalidVersion: vssType(WEBAPI, "VssInvalidApiResourceVersionException"),
  versionOutOfRange: vssType(WEBAPI, "VssVersionOutOfRangeException"),
  previewRequired: vssType(WEBAPI, "VssInvalidPreviewVersionException"),
  invalidArgument: vssType(
    "Microsoft.VisualStudio.Services.Common",
    "InvalidArgumentValueException",
  ),
  organizationNotFound: vssType(FRAMEWORK, "HostDoesNotExistException"),
  routeNotFound: vssType(WEBAPI, "VssResourceNotFoundException"),
  memberNotFound: vssType(MEM, "MemberNotFoundException"),
  graphSubjectNotFound: vssType(GRAPH, "GraphSubjectNotFoundException", WEBAPI),
  projectNotFoundByName: vssType(CORE, "ProjectDoesNotExistWithNameException"),
  projectNotFound: vssType(CORE, "ProjectDoesNotExistException"),
  profileNotFound: vssType(
    "Microsoft.VisualStudio.Services.Profile",
    "ProfileNotFoundException",
    WEBAPI,
  ),
  requestBlocked: vssType(FRAMEWORK, "RequestBlockedException"),
  // AccessCheckException is the client's type for a failed permission check, IdentityNotFoundException
  // a known client type; which of them the Organization calls send, and every Organization type, are
  // stand-ins.
  accessDenied: vssType("Microsoft.VisualStudio.Services.Security", "AccessCheckException", WEBAPI),
  identityNotFound: vssType(IDENTITY, "IdentityNotFoundException", WEBAPI),
  ownerNeverSignedIn: vssType(ORGANIZATION, "OrganizationOwnerNotActiveException", WEBAPI),
  graphBadRequest: vssType(GRAPH, "GraphBadRequestException", WEBAPI),
  identityAlreadyBound: vssType(IDENTITY, "InvalidTransferIdentityRightsRequestException", WEBAPI),
  scrubFailed: vssType(GRAPH, "GraphAccountNameCollisionRepairFailedException", WEBAPI),
  alreadyConnected: vssType(ORGANIZATION, "OrganizationAlreadyLinkedToTenantException", WEBAPI),
  notConnected: vssType(ORGANIZATION, "OrganizationNotLinkedToTenantException", WEBAPI),
  tenantNotFound: vssType(ORGANIZATION, "TenantNotFoundException", WEBAPI),
  notActiveTenantMember: vssType(ORGANIZATION, "TenantLinkNotAllowedException", WEBAPI),
  msaMatchesTenantIdentity: vssType(ORGANIZATION, "MsaIdentityConflictException", WEBAPI),
  duplicateIdentities: vssType(ORGANIZATION, "OrganizationDuplicateIdentitiesException", WEBAPI),
  unsupportedMediaType: vssType(WEBAPI, "VssRequestContentTypeNotSupportedException"),
  requestTooLarge: vssType(WEBAPI, "VssRequestContentTooLargeException"),
  serviceError: vssType(WEBAPI, "VssServiceException"),
} as const;

// rule T5 [obs] Every error body is a serialized .NET exception {$id, innerException, message, typeName, typeKey, errorCode 0, eventId 3000} (microsoft/azure-devops-auth-samples#52; MicrosoftDocs/vsts-rest-api-specs#571)
export function vssErrorBody(type: VssErrorType, message: string): Record<string, unknown> {
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

export type Headers = Record<string, string | string[]>;

/** A refusal the handlers throw; `body` replaces the serialized exception (e.g. a bare string). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: VssErrorType,
    message: string,
    readonly headers: Headers = {},
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export function badRequest(message: string): HttpError {
  return new HttpError(400, ERRORS.invalidArgument, message);
}
