/** The api-version rules every Azure DevOps REST route applies. */
import { ERRORS, HttpError } from "./errors";
import { type Context, type Version, queryParam } from "./http";

/** Azure DevOps Services answers api-versions up to 7.2 today; higher ones are "out of range". */
export const LATEST_API_VERSION: Version = [7, 2];

function compareVersions(a: Version, b: Version): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

// rule V5 [doc] The api-version may come in the Accept header (application/json;api-version=7.1) instead of the query (WebApiResources.VersionNotSuppliedMessage "either as part of the Accept header … or as a query parameter"; azure-devops-node-api ClientApiBase.createAcceptHeader)
function requestedVersion(ctx: Context): string | undefined {
  const fromQuery = queryParam(ctx.query, "api-version");
  const fromAccept = /api-version\s*=\s*([^;,\s]+)/i.exec(ctx.headers.accept ?? "")?.[1];
  const version = fromQuery !== undefined && fromQuery !== "" ? fromQuery : fromAccept;
  return version === "" ? undefined : version;
}

/**
 * Checks the request's api-version against a resource whose highest released version is
 * `released` (undefined: any well-formed version up to the latest).
 */
export function checkApiVersion(ctx: Context, released: Version | undefined): void {
  const version = requestedVersion(ctx);
  if (version === undefined) {
    // rule V1 [obs] A GET without api-version is served at the latest version; other methods are refused 400 VssVersionNotSpecifiedException (GETs: microsoft/terraform-provider-azuredevops azuredevops/internal/client organization client_config, Microsoft365DSC MSFT_ADOOrganizationOwner.psm1, azure-devops-node-api "the server will decide the version"; refused POST: WebApiResources.VersionNotSuppliedMessage)
    if (ctx.method === "GET") return;
    throw new HttpError(
      400,
      ERRORS.versionNotSpecified,
      `No api-version was supplied for the "${ctx.method}" request. The version must be supplied either as part of ` +
        `the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`,
    );
  }
  const match = /^(\d+)\.(\d+)(-preview(\.\d+)?)?$/i.exec(version);
  if (match === null) {
    // rule V2 [obs] A malformed api-version is refused 400 VssInvalidApiResourceVersionException "Invalid api version string: …" (actions/runner src/Sdk/WebApi/WebApi/Exceptions/VssApiResourceExceptions.cs; WebApiResources.InvalidApiVersionStringMessage)
    throw new HttpError(
      400,
      ERRORS.invalidVersion,
      `Invalid api version string: "${version}". Api version string must be in the format: {Major}.{Minor}[-preview[.{ResourceVersion}]].`,
    );
  }
  const requested: Version = [Number(match[1]), Number(match[2])];
  // rule V3 [obs] A version below 1.0 or above the latest is refused 400 VssVersionOutOfRangeException "The requested REST API version of X is out of range for this server…" (WebApiResources.ApiVersionOutOfRange; public error samples)
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
  // rule V4 [obs] A version beyond the resource's released one needs -preview, else 400 VssInvalidPreviewVersionException; graph routes are preview-only, entitlements and projects released at 7.1, Organization and profile routes take any version (WebApiResources.PreviewVersionNotSuppliedMessage; graph-7.1.json asks 7.1-preview.1; Organization PATCH used with 5.0-preview.1 by GTRekter/Aetomatismos, 7.1-preview.1 by Microsoft365DSC)
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
