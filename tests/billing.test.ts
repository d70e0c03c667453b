/**
 * Reading what bills the organization, over real HTTP against the emulator: the billing setup
 * through the Azure DevOps client, the subscription's directory from Azure Resource Manager's
 * challenge, and the two together as the program reads them.
 */
import { strict as assert } from "node:assert";
import { readBilling } from "../azure/billing";
import { subscriptionTenant, tenantFromChallenge } from "../azure/subscriptionTenant";
import { DevOpsClient, isDevOpsApiError } from "../devops/client";
import { PAT_ENV, resolveDevOpsCredential } from "../devops/credentials";
import { BASE_URL_ENV } from "../devops/hosts";
import { Emulator, startEmulator } from "./emulator/server";
import { World, normalizeWorld } from "./emulator/world";
import { fixture } from "./support/programRun";

const FAST = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 };
const SUBSCRIPTION = "2b53247c-fb65-469e-a711-46e0c29d15a1";
const OTHER_TENANT = "0e3b7c2a-9d41-4f8e-b6a5-1c2d3e4f5a6b";
const PAT = "billing-test-pat-value";
/** What Azure DevOps answers, with 200 or 203, when it does not accept a credential. */
const SIGN_IN_PAGE =
  '<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body><form action="https://login.microsoftonline.com/"></form></body></html>';

function billedWorld(status?: string): World {
  return {
    ...fixture(),
    billing: {
      subscriptionId: SUBSCRIPTION,
      subscriptionTenantId: OTHER_TENANT,
      ...(status ? { status } : {}),
    },
  };
}

describe("billing: what bills the organization, and in which directory", () => {
  let emulator: Emulator;
  const env = (): NodeJS.ProcessEnv => ({ [BASE_URL_ENV]: emulator.url });
  const client = (): DevOpsClient =>
    new DevOpsClient({
      organization: "fabrikam",
      credential: resolveDevOpsCredential({ env: { [PAT_ENV]: PAT } }),
      env: env(),
      retry: FAST,
    });
  const organizationId = (): string => normalizeWorld(emulator.world).organizationId;
  const billingCalls = (): string[] =>
    emulator.requests.filter((r) => r.path.endsWith("/BillingSetup")).map((r) => r.auth);
  const armCalls = (): { status: number; auth: string }[] =>
    emulator.requests
      .filter((r) => r.path.startsWith("/subscriptions/"))
      .map((r) => ({ status: r.status, auth: r.auth }));

  beforeEach(async () => {
    emulator = await startEmulator({ world: fixture() });
  });
  afterEach(() => emulator.close());

  describe("the billing setup (Azure DevOps commerce endpoint)", () => {
    it("reads the organization's GUID from the organization endpoint", async () => {
      const organization = await client().getOrganization();
      assert.equal(organization.id, organizationId());
      emulator.injectFault({
        path: "/Organization/Collections/Me",
        body: { owner: "84d4db47-92b4-5a64-b2dd-1987b90b7edd", tenantId: null, id: "fabrikam" },
      });
      const withoutGuid = await client().getOrganization();
      assert.equal(withoutGuid.id, undefined, "an id that is not a GUID is not used");
    });

    it("says billing is not set up, and names the subscription once it is", async () => {
      const c = client();
      assert.deepEqual(await c.getBillingSetup(organizationId()), { kind: "notSetUp" });
      emulator.world = billedWorld();
      assert.deepEqual(await c.getBillingSetup(organizationId()), {
        kind: "setUp",
        subscriptionId: SUBSCRIPTION,
        status: "active",
      });
      emulator.world = billedWorld("disabled");
      assert.deepEqual(await c.getBillingSetup(organizationId().toUpperCase()), {
        kind: "setUp",
        subscriptionId: SUBSCRIPTION,
        status: "disabled",
      });
      assert.deepEqual(billingCalls(), ["basic", "basic", "basic"], "with the Azure DevOps PAT");
      assert.ok(
        emulator.requests.every((r) => r.query["api-version"] === "7.1-preview.1"),
        "the api-version the public readers send",
      );
    });

    it("treats the HTML sign-in page on 200 as an error naming the call, not as no billing", async () => {
      emulator.injectFault({ path: "/AzComm/BillingSetup", text: SIGN_IN_PAGE });
      await assert.rejects(client().getBillingSetup(organizationId()), (err: unknown) => {
        assert.ok(isDevOpsApiError(err));
        assert.match(
          err.message,
          /^Azure DevOps organization "fabrikam": read the billing setup \(GET \/[0-9a-f-]+\/_apis\/AzComm\/BillingSetup\) failed with HTTP 200: the answer is not JSON \(text\/html; charset=utf-8, an HTML page: Azure DevOps' sign-in page/,
        );
        return true;
      });
    });

    it("treats the sign-in page on 203 as a refused credential", async () => {
      emulator.injectFault({ path: "/AzComm/BillingSetup", status: 203, text: SIGN_IN_PAGE });
      await assert.rejects(
        client().getBillingSetup(organizationId()),
        /read the billing setup .* failed with HTTP 203: the service answered 203 Non-Authoritative Information \(its sign-in page\), not the API: the credential was not accepted/,
      );
      emulator.injectFault({
        path: "/AzComm/BillingSetup",
        status: 203,
        body: { subscriptionId: null },
      });
      await assert.rejects(client().getBillingSetup(organizationId()), /HTTP 203/, "even as JSON");
      assert.equal(billingCalls().length, 2, "not retried");
    });

    it("refuses a redirect (to a sign-in page) instead of following it", async () => {
      emulator.injectFault({
        path: "/AzComm/BillingSetup",
        status: 302,
        headers: { Location: `${emulator.url}/_signin` },
      });
      await assert.rejects(
        client().getBillingSetup(organizationId()),
        /failed with HTTP 302: the service redirected the request to 127\.0\.0\.1:\d+ instead of answering; the redirect is not followed/,
      );
      assert.equal(emulator.requests.length, 1, "the redirect was not followed");
    });

    it("refuses an answer of another shape, naming what does not match", async () => {
      const cases: [unknown, RegExp][] = [
        [{ count: 0, value: [] }, /the answer has none of the billing setup's fields/],
        [[{ subscriptionId: SUBSCRIPTION }], /the answer is not a JSON object/],
        [
          { subscriptionId: "my-subscription" },
          /`subscriptionId` is not a GUID \(got "my-subscription"\)/,
        ],
        [
          { subscriptionId: SUBSCRIPTION, subscriptionStatus: 1 },
          /`subscriptionStatus` is not a string/,
        ],
        [
          { subscriptionId: null, isAssignmentBillingEnabled: "yes" },
          /`isAssignmentBillingEnabled` is not a boolean/,
        ],
      ];
      for (const [body, expected] of cases) {
        emulator.injectFault({ path: "/AzComm/BillingSetup", body });
        await assert.rejects(client().getBillingSetup(organizationId()), (err: Error) => {
          assert.match(err.message, /read the billing setup/);
          assert.match(err.message, expected);
          return true;
        });
      }
    });

    it("refuses an organization id that is not a GUID before calling", async () => {
      await assert.rejects(
        client().getBillingSetup("fabrikam"),
        /read the billing setup failed: the organization id "fabrikam" is not a GUID/,
      );
      assert.equal(emulator.requests.length, 0);
    });
  });

  describe("the subscription's directory (Azure Resource Manager's challenge)", () => {
    it("reads the tenant from the unauthenticated challenge, sending no credential at all", async () => {
      emulator.world = billedWorld();
      assert.equal(
        await subscriptionTenant(SUBSCRIPTION.toUpperCase(), { env: env(), retry: FAST }),
        OTHER_TENANT,
      );
      assert.deepEqual(armCalls(), [{ status: 401, auth: "none" }]);
      assert.equal(
        emulator.requests[0].query["api-version"],
        "2022-12-01",
        "Subscriptions - Get's documented version",
      );
    });

    it("parses the challenge's documented forms, and nothing else", () => {
      const tenant = OTHER_TENANT;
      for (const header of [
        `Bearer authorization_uri="https://login.windows.net/${tenant}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
        `Bearer authorization_uri="https://login.microsoftonline.com/${tenant.toUpperCase()}/oauth2/authorize"`,
        `bearer authorization_uri=https://login.microsoftonline.com/${tenant} resource_id=https://management.azure.com`,
      ]) {
        assert.equal(tenantFromChallenge(header), tenant, header);
      }
      for (const header of [
        null,
        "",
        'Bearer authorization_uri="https://login.windows.net/common/oauth2/authorize"',
        'Bearer authorization_uri="https://login.windows.net/"',
        `Basic realm="https://login.windows.net/${tenant}"`,
        `Bearer realm="", authorization_uri="not a url/${tenant}"`,
      ]) {
        assert.equal(tenantFromChallenge(header), undefined, String(header));
      }
    });

    it("asks with an ARM token when the challenge names no tenant", async () => {
      emulator.world = billedWorld();
      emulator.injectFault({
        path: `/subscriptions/${SUBSCRIPTION}`,
        status: 401,
        body: { error: { code: "AuthenticationFailed", message: "no challenge" } },
      });
      const tokens: string[] = [];
      const tenant = await subscriptionTenant(SUBSCRIPTION, {
        env: env(),
        retry: FAST,
        armToken: async () => {
          tokens.push("asked");
          return "arm-access-token";
        },
      });
      assert.equal(tenant, OTHER_TENANT);
      assert.deepEqual(tokens, ["asked"], "a token only once the challenge failed");
      assert.deepEqual(armCalls(), [
        { status: 401, auth: "none" },
        { status: 200, auth: "bearer" },
      ]);
    });

    it("fails naming the call and the way out when the header is absent and no ARM token is at hand", async () => {
      emulator.world = billedWorld();
      emulator.injectFault({ path: `/subscriptions/${SUBSCRIPTION}`, status: 401, body: {} });
      await assert.rejects(
        subscriptionTenant(SUBSCRIPTION, { env: env(), retry: FAST }),
        /^Error: Azure Resource Manager: find the directory of Azure subscription 2b53247c-fb65-469e-a711-46e0c29d15a1 \(GET \/subscriptions\/2b53247c-fb65-469e-a711-46e0c29d15a1\) failed: ARM answered 401 without a tenant in WWW-Authenticate's authorization_uri \(got no WWW-Authenticate header\), and no ARM token is at hand\. Sign in with `az login`/,
      );
      emulator.injectFault({ path: `/subscriptions/${SUBSCRIPTION}`, status: 401, body: {} });
      await assert.rejects(
        subscriptionTenant(SUBSCRIPTION, {
          env: env(),
          retry: FAST,
          armToken: () =>
            Promise.reject(new Error("CredentialUnavailableError: az not found\nmore")),
        }),
        /and no ARM token could be had: CredentialUnavailableError: az not found$/,
      );
    });

    it("reports ARM's own error for an unknown subscription, and retries a 503", async () => {
      await assert.rejects(
        subscriptionTenant(SUBSCRIPTION, { env: env(), retry: FAST }),
        /failed: HTTP 404: The subscription '2b53247c-fb65-469e-a711-46e0c29d15a1' could not be found\. \(SubscriptionNotFound\)$/,
      );
      emulator.world = billedWorld();
      emulator.injectFault({ path: "/subscriptions/", status: 503, times: 2 });
      assert.equal(
        await subscriptionTenant(SUBSCRIPTION, { env: env(), retry: FAST }),
        OTHER_TENANT,
      );
      await assert.rejects(
        subscriptionTenant("not-a-guid", { env: env() }),
        /failed: the subscription id is not a GUID/,
      );
    });
  });

  describe("readBilling: both reads, never rejecting", () => {
    const read = (organization?: string) =>
      readBilling(client(), organization, { env: env(), retry: FAST });

    it("reads not set up, or the subscription with its directory", async () => {
      assert.deepEqual(await read(organizationId()), { kind: "notSetUp" });
      emulator.world = billedWorld();
      assert.deepEqual(await read(organizationId()), {
        kind: "setUp",
        subscriptionId: SUBSCRIPTION,
        subscriptionTenantId: OTHER_TENANT,
        status: "active",
      });
      // The PAT went to Azure DevOps only; ARM got no credential.
      assert.deepEqual(billingCalls(), ["basic", "basic"]);
      assert.deepEqual(armCalls(), [{ status: 401, auth: "none" }]);
    });

    it("says what could not be found out, and why", async () => {
      const noId = await read(undefined);
      assert.equal(noId.kind, "unknown");
      emulator.injectFault({ path: "/AzComm/BillingSetup", status: 203, text: SIGN_IN_PAGE });
      const signIn = await read(organizationId());
      assert.deepEqual(
        signIn.kind === "unknown" ? [signIn.what, /HTTP 203/.test(signIn.reason)] : signIn,
        ["which Azure subscription bills the organization", true],
      );
      emulator.world = billedWorld();
      emulator.injectFault({ path: "/subscriptions/", status: 401, body: {} });
      const noDirectory = await read(organizationId());
      assert.deepEqual(
        noDirectory.kind === "unknown"
          ? [noDirectory.what, /no ARM token is at hand/.test(noDirectory.reason)]
          : noDirectory,
        [`which directory Azure subscription ${SUBSCRIPTION} belongs to`, true],
      );
    });
  });
});
