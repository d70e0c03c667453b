import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { AccessToken, TokenCredential } from "@azure/identity";
import { DevOpsClient, isDevOpsApiError } from "../devops/client";
import { PAT_ENV, resolveDevOpsCredential } from "../devops/credentials";
import { BASE_URL_ENV, baseUrlOverride, devopsUrl } from "../devops/hosts";
import { parseRetryAfter } from "../devops/retry";
import type { Behaviour } from "./emulator/behaviour";
import { Emulator, startEmulator } from "./emulator/server";
import { World, defaultUserId, normalizeWorld } from "./emulator/world";
import { refusedOperation } from "./support/faults";

const FIXTURE = path.join(__dirname, "fixtures", "world.json");
const fixture = (): World => JSON.parse(readFileSync(FIXTURE, "utf8")) as World;
/** Fast, still bounded, retries: the policy is the production one with shorter waits. */
const FAST = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 };

describe("Azure DevOps client against the emulator", () => {
  let emulator: Emulator;
  let progress: string[];
  const client = (
    over: Partial<ConstructorParameters<typeof DevOpsClient>[0]> = {},
  ): DevOpsClient =>
    new DevOpsClient({
      organization: "fabrikam",
      credential: resolveDevOpsCredential({ env: { [PAT_ENV]: "test-pat" } }),
      env: { [BASE_URL_ENV]: emulator.url },
      retry: FAST,
      onProgress: (m) => progress.push(m),
      ...over,
    });

  beforeEach(async () => {
    emulator = await startEmulator({ world: fixture(), pageSize: 2 });
    progress = [];
  });
  afterEach(() => emulator.close());

  it("lists every user across pages, once each", async () => {
    const listing = await client().listUsers();
    assert.deepEqual(listing.problems, [], "a complete listing");
    assert.equal(listing.totalCount, fixture().users.length);
    const users = listing.users;
    const world = fixture();
    assert.equal(users.length, world.users.length);
    assert.deepEqual(
      users.map((u) => u.principalName).sort(),
      world.users.map((u) => u.principalName).sort(),
    );
    const pages = emulator.requests.filter((r) => r.path.endsWith("/_apis/userentitlements"));
    assert.equal(pages.length, Math.ceil(world.users.length / 2));
    assert.ok(pages.every((r) => r.auth === "basic" && r.query["api-version"] === "7.1"));
    const owner = users.find((u) => u.principalName === "jamalhartnett@fabrikam.com");
    assert.equal(owner?.id, defaultUserId("jamalhartnett@fabrikam.com"));
    assert.equal(owner?.origin, "msa");
    assert.equal(owner?.license, "express");
    assert.equal(
      users.find((u) => u.principalName === "dev.someone@gmail.com")?.lastAccessedDate,
      undefined,
    );
    assert.match(progress.at(-1) ?? "", /^\[fabrikam\] listed 9 of 9 organization users$/);
  });

  it("reads the owner and the tenant, lists projects with their version control, and says who the caller is", async () => {
    const c = client();
    const org = await c.getOrganization();
    assert.deepEqual(org, {
      id: normalizeWorld(fixture()).organizationId,
      ownerId: defaultUserId("jamalhartnett@fabrikam.com"),
      tenantId: null,
    });
    emulator.world.tenantId = "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B";
    assert.equal((await c.getOrganization()).tenantId, "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");

    const projects = await c.listProjects();
    assert.deepEqual(projects.map((p) => [p.name, p.versionControl]).sort(), [
      ["legacy", "tfvc"],
      ["web", "git"],
    ]);
    const me = await c.whoAmI();
    assert.equal(me.emailAddress, "jamalhartnett@fabrikam.com");
    assert.ok(c.requestCount >= emulator.requests.length - 1);
  });

  it("pages projects beyond one page of 100", async () => {
    emulator.world.projects = Array.from({ length: 205 }, (_, i) => ({
      name: `p${i}`,
      sourceControlType: i === 204 ? ("Tfvc" as const) : ("Git" as const),
    }));
    const projects = await client({ concurrency: 8 }).listProjects();
    assert.equal(projects.length, 205);
    assert.equal(new Set(projects.map((p) => p.id)).size, 205);
    assert.deepEqual(
      projects.filter((p) => p.versionControl === "tfvc").map((p) => p.name),
      ["p204"],
    );
    // No route discovery: the calls go straight to their documented paths.
    assert.equal(
      emulator.requests.filter((r) => r.method === "OPTIONS" || r.path.endsWith("/resourceAreas"))
        .length,
      0,
    );
  });

  it("waits as long as Retry-After says on 429, then succeeds", async () => {
    emulator.injectFault({ path: "/_apis/userentitlements", status: 429, retryAfter: 1, times: 1 });
    const started = Date.now();
    const { users } = await client().listUsers();
    assert.equal(users.length, fixture().users.length);
    assert.ok(Date.now() - started >= 950, "waited for Retry-After");
    assert.equal(emulator.requests.filter((r) => r.status === 429).length, 1);
    assert.ok(
      progress.some((m) => /list users \(page 1\).*attempt 1 failed, retrying in 1\.0 s/.test(m)),
    );
  });

  it("retries 500 a bounded number of times, then fails naming the organization, the call and Microsoft's message", async () => {
    emulator.injectFault({
      path: "/_apis/Organization/Collections/Me",
      status: 500,
      times: Infinity,
    });
    await assert.rejects(client().getOrganization(), (err: unknown) => {
      assert.ok(isDevOpsApiError(err));
      assert.equal(err.status, 500);
      assert.match(
        err.message,
        /^Azure DevOps organization "fabrikam": read organization owner and tenant \(GET \/fabrikam\/_apis\/Organization\/Collections\/Me\) failed with HTTP 500: .+ \(gave up after 4 attempts\)$/,
      );
      return true;
    });
    assert.equal(
      emulator.requests.filter((r) => r.path.includes("Collections/Me")).length,
      FAST.maxAttempts,
    );
  });

  it("retries a 503 on the projects calls too, then succeeds", async () => {
    emulator.injectFault({ path: "/_apis/projects", status: 503, times: 2 });
    const projects = await client().listProjects();
    assert.equal(projects.length, 2);
    assert.equal(emulator.requests.filter((r) => r.status === 503).length, 2);
  });

  it("treats isSuccess:false on HTTP 200 as a permanent failure with Microsoft's error text", async () => {
    emulator.injectFault({
      path: "/_apis/userentitlements",
      body: refusedOperation("5102", "User cannot be listed"),
    });
    await assert.rejects(
      client().listUsers(),
      /Azure DevOps organization "fabrikam": list users \(page 1\) \(GET \/fabrikam\/_apis\/userentitlements\) failed with HTTP 200: the operation was refused \(isSuccess:false\): User cannot be listed \(code 5102\)/,
    );
    assert.equal(emulator.requests.length, 1, "a permanent failure is not retried");
  });

  it("fails at once on 404 for an unknown organization, with Microsoft's message", async () => {
    await assert.rejects(client({ organization: "contoso" }).listUsers(), (err: unknown) => {
      assert.ok(isDevOpsApiError(err));
      assert.equal(err.status, 404);
      assert.equal(err.organization, "contoso");
      assert.match(
        err.message,
        /^Azure DevOps organization "contoso": list users \(page 1\).*failed with HTTP 404: \S+/,
      );
      return true;
    });
    assert.equal(emulator.requests.length, 1);
  });

  // However Azure DevOps refuses a token (rule T8: its sign-in page with 203 by default), the
  // client fails at once, says the credential was not accepted, and does not retry.
  const REFUSALS: [Behaviour["refusedCredential"], RegExp][] = [
    ["signInPage", /answered 203 Non-Authoritative Information .* the credential was not accepted/],
    ["redirect", /redirected the request to .* the credential was not accepted/],
    ["unauthorized", /failed with HTTP 401/],
  ];
  for (const [refusedCredential, message] of REFUSALS) {
    it(`fails once, naming the refused credential, when Azure DevOps answers a bad token with ${refusedCredential}`, async () => {
      emulator.behaviour = { refusedCredential };
      emulator.world.tokens = { "the-right-one": "jamalhartnett@fabrikam.com" };
      await assert.rejects(client().listUsers(), message);
      assert.equal(emulator.requests.length, 1, "a refused credential is not retried");
    });
  }

  it("retries a dropped connection and then reports a network error", async () => {
    const url = emulator.url;
    await emulator.close();
    await assert.rejects(
      new DevOpsClient({
        organization: "fabrikam",
        credential: resolveDevOpsCredential({ configToken: "x" }),
        env: { [BASE_URL_ENV]: url },
        retry: FAST,
      }).listUsers(),
      /failed: network error ECONNREFUSED.*\(gave up after 4 attempts\)/,
    );
    emulator = await startEmulator({ world: fixture() });
  });

  it("answers slowly without failing", async () => {
    emulator.injectFault({ path: "/_apis/userentitlements", delayMs: 300, times: 1 });
    assert.equal((await client().listUsers()).users.length, fixture().users.length);
  });

  describe("fails closed on answers that are not the API's own", () => {
    const SIGN_IN =
      "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head></html>";
    const calls: [string, (c: DevOpsClient) => Promise<unknown>, string][] = [
      ["list users", (c) => c.listUsers(), "/_apis/userentitlements"],
      ["list projects", (c) => c.listProjects(), "/_apis/projects"],
      ["who am I", (c) => c.whoAmI(), "/_apis/profile/profiles/me"],
      ["read organization", (c) => c.getOrganization(), "/Organization/Collections/Me"],
    ];
    for (const [what, call, path] of calls) {
      for (const status of [200, 203]) {
        it(`${what}: an HTML sign-in page with HTTP ${status} is an error naming the call`, async () => {
          emulator.injectFault({ path, status, text: SIGN_IN, contentType: "text/html" });
          await assert.rejects(call(client()), (err: unknown) => {
            assert.ok(isDevOpsApiError(err), String(err));
            assert.equal(err.status, status);
            assert.match(
              err.message,
              status === 203 ? /203 Non-Authoritative/ : /not JSON \(text\/html, an HTML page/,
            );
            return true;
          });
        });
      }
      it(`${what}: a redirect is refused, not followed, and no credential leaves`, async () => {
        emulator.injectFault({
          path,
          status: 302,
          headers: { Location: "https://login.example.com/sign-in" },
        });
        await assert.rejects(
          call(client()),
          /redirected the request to login\.example\.com instead of answering; the redirect is not followed/,
        );
      });
    }

    it("an empty body on the project list is an error, not 'no projects'", async () => {
      emulator.injectFault({ path: "/_apis/projects", status: 200, text: "", times: 1 });
      await assert.rejects(
        client().listProjects(),
        /list projects \(skip 0\).*the answer is not a JSON object/,
      );
    });

    it("a project list whose count disagrees with its items is an error", async () => {
      emulator.injectFault({ path: "/_apis/projects", body: { count: 3, value: [] } });
      await assert.rejects(client().listProjects(), /the answer says count 3 but lists 0/);
    });

    it("a project without a version control capability is 'unknown', one with TFVC enabled next to Git is 'tfvc'", async () => {
      const web = normalizeWorld(fixture()).projects.find((p) => p.name === "web")!;
      emulator.injectFault({
        path: `/_apis/projects/${web.id}`,
        body: { id: web.id, name: "web" },
        times: 1,
      });
      assert.deepEqual(
        (await client({ concurrency: 1 }).listProjects()).map((p) => [p.name, p.versionControl]),
        [
          ["web", "unknown"],
          ["legacy", "tfvc"],
        ],
      );
      emulator.injectFault({
        path: `/_apis/projects/${web.id}`,
        body: {
          id: web.id,
          name: "web",
          capabilities: {
            versioncontrol: { sourceControlType: "Git", gitEnabled: "True", tfvcEnabled: "True" },
          },
        },
        times: 1,
      });
      assert.equal(
        (await client().listProjects()).find((p) => p.name === "web")?.versionControl,
        "tfvc",
      );
    });

    it("reports an empty listing, a total that disagrees, a repeated token and the page limit as problems", async () => {
      emulator.injectFault({ path: "/_apis/userentitlements", body: { items: [], totalCount: 0 } });
      assert.match(
        (await client().listUsers()).problems.join("\n"),
        /returned no users, yet an organization always has its owner/,
      );

      emulator.injectFault({
        path: "/_apis/userentitlements",
        body: { items: [], continuationToken: null, totalCount: 12 },
      });
      assert.match(
        (await client().listUsers()).problems.join("\n"),
        /announced 12 users but listed 0/,
      );

      emulator.injectFault({
        path: "/_apis/userentitlements",
        body: { items: [], continuationToken: "again" },
        times: 2,
      });
      assert.match(
        (await client().listUsers()).problems.join("\n"),
        /repeated a continuation token on page 2; listing stopped/,
      );

      const capped = await client({ maxUserPages: 2 }).listUsers();
      assert.equal(capped.users.length, 4);
      assert.match(
        capped.problems.join("\n"),
        /stopped at the limit of 2 pages with more announced/,
      );
    });

    it("reads Microsoft's 'never signed in' dates, year 1 at any hour, as never", async () => {
      for (const never of ["0001-01-01T00:00:00Z", "0001-01-01T08:00:00Z"]) {
        const id = defaultUserId("partner@othercompany.com");
        emulator.injectFault({
          path: `/_apis/userentitlements/${id}`,
          body: {
            id,
            user: { principalName: "partner@othercompany.com", origin: "msa" },
            lastAccessedDate: never,
          },
        });
        assert.equal((await client().getUser(id))?.lastAccessedDate, undefined, never);
      }
    });

    it("slows down when a successful answer carries Retry-After", async () => {
      emulator.injectFault({ path: "/Organization/Collections/Me", delayMs: 0, times: 1 });
      emulator.injectFault({
        path: "/_apis/profile/profiles/me",
        body: { id: "me", emailAddress: "jamalhartnett@fabrikam.com" },
        headers: { "Retry-After": "1" },
      });
      const c = client();
      await c.whoAmI();
      const started = Date.now();
      await c.getOrganization();
      assert.ok(Date.now() - started >= 900, "the next request waited");
      assert.ok(progress.some((m) => /asked to slow down: next request in 1\.0 s/.test(m)));
    });

    it("asks the tenant header anonymously, and reads it from a 401 too", async () => {
      emulator.injectFault({
        method: "HEAD",
        path: "/fabrikam",
        status: 401,
        headers: { "X-VSS-ResourceTenant": "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B" },
      });
      assert.equal(await client().getResourceTenant(), "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
      emulator.injectFault({ method: "HEAD", path: "/fabrikam", status: 401 });
      assert.equal(await client().getResourceTenant(), undefined, "absent header");
      assert.deepEqual(
        emulator.requests.map((r) => r.auth),
        ["none", "none"],
      );
    });
  });

  describe("credentials", () => {
    it("prefers the configured token, then the env token, and never shows either in its source", async () => {
      const fromConfig = resolveDevOpsCredential({ configToken: "cfg", env: { [PAT_ENV]: "env" } });
      assert.equal(fromConfig.source, "config devopsToken");
      assert.equal(
        await fromConfig.authorizationHeader(),
        `Basic ${Buffer.from(":cfg").toString("base64")}`,
      );
      const fromEnv = resolveDevOpsCredential({ env: { [PAT_ENV]: " env " } });
      assert.equal(fromEnv.source, `env ${PAT_ENV}`);
      assert.equal(
        await fromEnv.authorizationHeader(),
        `Basic ${Buffer.from(":env").toString("base64")}`,
      );
    });

    it("falls back to an Entra token for Azure DevOps, sent as Bearer", async () => {
      const scopes: string[] = [];
      const entra: TokenCredential = {
        getToken: async (scope): Promise<AccessToken> => {
          scopes.push(String(scope));
          return { token: "entra-access-token", expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      };
      const credential = resolveDevOpsCredential({ env: {}, entra });
      assert.equal(credential.source, "Entra (DefaultAzureCredential)");
      const { users } = await client({ credential }).listUsers();
      assert.equal(users.length, fixture().users.length);
      assert.deepEqual([...new Set(scopes)], ["499b84ac-1321-427f-aa17-267ca6975798/.default"]);
      assert.ok(emulator.requests.every((r) => r.auth === "bearer"));
    });

    it("explains what to do when no credential is available", async () => {
      const entra: TokenCredential = {
        getToken: async () => {
          throw new Error("CredentialUnavailableError: Azure CLI not found");
        },
      };
      await assert.rejects(
        resolveDevOpsCredential({ env: {}, entra }).authorizationHeader(),
        /No Azure DevOps credential: .*Run `az login`, or set AZDO_PERSONAL_ACCESS_TOKEN/,
      );
    });
  });

  describe("hosts", () => {
    it("keeps Microsoft's hosts unless DEVOPS_API_BASE_URL is set, and then keeps the paths", () => {
      assert.equal(
        devopsUrl("vsaex", "/fabrikam/_apis/userentitlements", {}),
        "https://vsaex.dev.azure.com/fabrikam/_apis/userentitlements",
      );
      assert.equal(
        devopsUrl("profile", "_apis/profile/profiles/me", {}),
        "https://app.vssps.visualstudio.com/_apis/profile/profiles/me",
      );
      assert.equal(
        devopsUrl("vssps", "/fabrikam/_apis/graph/users", {
          [BASE_URL_ENV]: "http://127.0.0.1:9/",
        }),
        "http://127.0.0.1:9/fabrikam/_apis/graph/users",
      );
      // The billing hosts follow the same base URL: commerce (Azure DevOps) and ARM (Azure).
      assert.equal(
        devopsUrl("commerce", "/x/_apis/AzComm/BillingSetup", {}),
        "https://azdevopscommerce.dev.azure.com/x/_apis/AzComm/BillingSetup",
      );
      assert.equal(
        devopsUrl("arm", "/subscriptions/s", { [BASE_URL_ENV]: "http://127.0.0.1:9" }),
        "http://127.0.0.1:9/subscriptions/s",
      );
      assert.throws(
        () => devopsUrl("core", "/x", { [BASE_URL_ENV]: "not a url" }),
        (err: Error) =>
          /DEVOPS_API_BASE_URL is set but is not a URL/.test(err.message) &&
          !err.message.includes("not a url"),
      );
    });

    it("refuses a DEVOPS_API_BASE_URL that is not loopback or that carries credentials, without echoing it", () => {
      for (const [value, expected] of [
        [
          "https://evil.example.com",
          /points at https:\/\/evil\.example\.com, which is not a loopback address/,
        ],
        ["http://10.0.0.5:8080", /points at http:\/\/10\.0\.0\.5, which is not a loopback address/],
        ["ftp://127.0.0.1", /points at ftp:\/\/127\.0\.0\.1, which is not a loopback address/],
        ["http://user:s3cr3t-pat@127.0.0.1:9", /must not carry credentials/],
      ] as const) {
        assert.throws(
          () => devopsUrl("vsaex", "/fabrikam/_apis/userentitlements", { [BASE_URL_ENV]: value }),
          (err: Error) => expected.test(err.message) && !err.message.includes("s3cr3t"),
          value,
        );
      }
      for (const value of ["http://localhost:8080/", "https://[::1]:9/"]) {
        assert.equal(baseUrlOverride({ [BASE_URL_ENV]: value }), value.replace(/\/$/, ""));
      }
      assert.equal(baseUrlOverride({ [BASE_URL_ENV]: " " }), undefined);
    });

    it("parses Retry-After as seconds or as an HTTP date", () => {
      assert.equal(parseRetryAfter("7"), 7000);
      assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
      assert.equal(parseRetryAfter("soon"), undefined);
      assert.equal(parseRetryAfter(null), undefined);
    });
  });
});
