/**
 * The billing setup of the commerce host, and Azure Resource Manager's subscription challenge
 * (docs/billing.md lists the public sources).
 */
import { ERRORS, type Headers, HttpError } from "./errors";
import { type Context, type Reply, queryParam, readCredentials } from "./http";
import { FIXED_TIME } from "./resources";
import { GUID } from "./state";
import { type NormalizedWorld, type World, deterministicGuid } from "./world";

// rule B1 [obs] GET AzComm/BillingSetup answers subscriptionId, subscriptionStatus, currentOrganizationName, updatedDateTime, updatedBy, allowedBillingOperations and the isEnterpriseBillingEnabled and isAssignmentBillingEnabled flags; the values of accountName, resourceGroupName and allowedBillingOperations are stand-ins (MethodsAndPractices/vsteam Tests/SampleFiles/Get-VSTeamAccountBillingWithSubscription.json; thecloudexplorers/PSRule.Rules.AzureDevOps src/PSRule.Rules.AzureDevOps/Functions/DevOps.Organization.GeneralBillingSettings.ps1)
// rule B2 [guess] Without billing the setup answers 200 with a null subscriptionId and subscriptionStatus (both public readers treat a missing or empty id as "not configured")
// rule B3 [guess] An organization id other than this organization's answers 404 HostDoesNotExistException
export function billingSetup(w: NormalizedWorld, organizationId: string): Reply {
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

// rule B4 [obs] GET /subscriptions/{id} without a Bearer token answers 401 with WWW-Authenticate Bearer authorization_uri="https://login.windows.net/<the subscription's tenant>", error="invalid_token" (https://learn.microsoft.com/entra/msal/dotnet/advanced/extract-authentication-parameters; microsoft/azuredatastudio extensions/azurecore/src/azureResource/services/tenantService.ts)
// rule B5 [guess] Any Bearer token is a valid ARM token and gets the subscription with its tenantId; a subscription other than the world's billing one answers 404 SubscriptionNotFound
// rule B6 [obs] ARM answers a request without api-version 400 MissingApiVersionParameter and a malformed subscription id 400 InvalidSubscriptionId, as {error:{code, message}} (Azure Resource Manager error shape, https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors)
export function armSubscription(world: World, ctx: Context): Reply {
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
