/**
 * Microsoft's own examples (tests/fixtures/microsoft, from MicrosoftDocs/vsts-rest-api-specs) as
 * test data that nobody here wrote:
 * - fed through the emulator's faults to the program's client, which must read them right;
 * - held against the emulator's own answers, which must have their shape (keys and value types,
 *   recursively), every accepted difference listed with its reason.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DevOpsClient } from "../devops/client";
import { PAT_ENV, resolveDevOpsCredential } from "../devops/credentials";
import { BASE_URL_ENV } from "../devops/hosts";
import { emulatorDescriptor, startEmulator, type Emulator } from "./emulator/server";
import { defaultObjectId, defaultUserId, type World } from "./emulator/world";

const DIR = join(__dirname, "fixtures", "microsoft");
const TENANT_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  return JSON.parse(readFileSync(join(DIR, file), "utf8").replace(/^\uFEFF/, "")) as Json;
}

/** The one response of an example file: its status, headers and body. */
function example(file: string): { status: number; headers: Json; body: Json } {
  const responses = readJson(join("httpExamples", file)).responses as Record<string, Json>;
  const [status, response] = Object.entries(responses)[0];
  return {
    status: Number(status),
    headers: (response.headers as Json | undefined) ?? {},
    body: response.body as Json,
  };
}

/** The property names of a definition of a spec, its allOf parents included. */
function definitionProperties(specFile: string, name: string): string[] {
  const definitions = readJson(specFile).definitions as Record<string, Json>;
  const names = new Set<string>();
  const collect = (definition: string): void => {
    const d = definitions[definition];
    for (const part of (d.allOf as Json[] | undefined) ?? []) {
      if (typeof part.$ref === "string") collect(part.$ref.split("/").at(-1) as string);
      else Object.keys((part.properties as Json | undefined) ?? {}).forEach((k) => names.add(k));
    }
    Object.keys((d.properties as Json | undefined) ?? {}).forEach((k) => names.add(k));
  };
  collect(name);
  return [...names].sort();
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * How `actual` differs in shape from `expected`: keys missing or extra, values of another type;
 * arrays compare their first elements when both have one.
 */
function shapeDifferences(expected: unknown, actual: unknown, path = "$"): string[] {
  const [e, a] = [kind(expected), kind(actual)];
  if (e !== a) return [`${path}: ${e} in Microsoft's, ${a} in the emulator's`];
  if (e === "array") {
    const [first, mine] = [(expected as unknown[])[0], (actual as unknown[])[0]];
    return first === undefined || mine === undefined
      ? []
      : shapeDifferences(first, mine, `${path}[0]`);
  }
  if (e !== "object") return [];
  const [x, y] = [expected as Json, actual as Json];
  return [
    ...Object.keys(x)
      .filter((k) => !(k in y))
      .map((k) => `${path}.${k}: missing`),
    ...Object.keys(y)
      .filter((k) => !(k in x))
      .map((k) => `${path}.${k}: extra`),
    ...Object.keys(x)
      .filter((k) => k in y)
      .flatMap((k) => shapeDifferences(x[k], y[k], `${path}.${k}`)),
  ];
}

/** Asserts that the differences are exactly the accepted ones (each key of `accepted` has its reason). */
function assertShape(expected: unknown, actual: unknown, accepted: Record<string, string>): void {
  assert.deepEqual(shapeDifferences(expected, actual).sort(), Object.keys(accepted).sort());
}

/** The three projects of Microsoft's Projects - List example, with the types of their names. */
const EXAMPLE_PROJECTS = [
  {
    id: "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1",
    name: "Fabrikam-Fiber-TFVC",
    sourceControlType: "Tfvc" as const,
  },
  {
    id: "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c",
    name: "Fabrikam-Fiber-Git",
    sourceControlType: "Git" as const,
  },
  {
    id: "281f9a5b-af0d-49b4-a1df-fe6f5e5f84d0",
    name: "TestGit",
    sourceControlType: "Git" as const,
  },
];

/** The fabrikam world, with the three projects of Microsoft's Projects - List example. */
function world(): World {
  const w = JSON.parse(readFileSync(join(__dirname, "fixtures", "world.json"), "utf8")) as World;
  w.projects = EXAMPLE_PROJECTS.map((p) => ({ ...p }));
  return w;
}

const ENTITLEMENT_BY_ID =
  "memberEntitlementManagement/UserEntitlements/GET__memberEntitlementManagement_UserEntitlementById.json";
const ENTITLEMENT_ADD =
  "memberEntitlementManagement/UserEntitlements/POST__memberEntitlementManagement_UserEntitlement.json";

describe("Microsoft's own examples", () => {
  let emulator: Emulator;
  const client = (): DevOpsClient =>
    new DevOpsClient({
      organization: "fabrikam",
      credential: resolveDevOpsCredential({ env: { [PAT_ENV]: "test-pat" } }),
      env: { [BASE_URL_ENV]: emulator.url },
      retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 2 },
    });
  const get = async (path: string): Promise<{ status: number; headers: Headers; body: Json }> => {
    const response = await fetch(`${emulator.url}${path}`, {
      headers: { Authorization: `Basic ${Buffer.from(":test-pat").toString("base64")}` },
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Json,
    };
  };

  beforeEach(async () => {
    emulator = await startEmulator({ world: world() });
  });
  afterEach(() => emulator.close());

  describe("fed to the program's client through the emulator's faults", () => {
    it("listUsers reads a page of Microsoft's example entitlement (User Entitlements - Get)", async () => {
      const entitlement = example(ENTITLEMENT_BY_ID).body;
      emulator.injectFault({
        method: "GET",
        path: /\/_apis\/userentitlements$/,
        // No example of the list exists: a PagedUserEntitlementsList holding the example entitlement.
        body: { items: [entitlement], continuationToken: null, totalCount: 1 },
      });
      const listing = await client().listUsers();
      assert.deepEqual(listing.problems, []);
      assert.equal(listing.totalCount, 1);
      assert.deepEqual(listing.users, [
        {
          id: "fe2f1bdb-9779-491a-a6f6-c6e9322cfb00",
          descriptor: "aad.wUGM3IDZ1UTZzczNtkTZmJWLiRzY30yNyE2MtcDNmFTOzMjY",
          originId: "00000000-0000-0000-0000-000000000000",
          principalName: "user1@fabrikam.com",
          mailAddress: "user1@fabrikam.com",
          displayName: "User 1",
          origin: "aad",
          license: "stakeholder",
          status: "active",
        },
      ]);
    });

    it("getUser reads Microsoft's User Entitlements - Get example", async () => {
      emulator.injectFault({
        method: "GET",
        path: "/_apis/userentitlements/fe2f1bdb",
        body: example(ENTITLEMENT_BY_ID).body,
      });
      const user = await client().getUser("fe2f1bdb-9779-491a-a6f6-c6e9322cfb00");
      assert.equal(user?.principalName, "user1@fabrikam.com");
      assert.equal(user?.origin, "aad");
      assert.equal(user?.license, "stakeholder");
      assert.equal(user?.lastAccessedDate, undefined, "0001-01-01T00:00:00Z is never");
    });

    it("addUser reads Microsoft's User Entitlements - Add example", async () => {
      emulator.injectFault({
        method: "POST",
        path: "/_apis/userentitlements",
        body: example(ENTITLEMENT_ADD).body,
      });
      const user = await client().addUser("newuser@fabrikam.com", "express");
      assert.equal(user.id, "08bbffa9-4944-4a98-b0c0-1fa718d5de3d");
      assert.equal(user.principalName, "newuser@fabrikam.com");
      assert.equal(user.origin, "aad");
      assert.equal(user.license, "express");
      assert.equal(user.status, "pending");
    });

    it("listProjects reads Microsoft's Projects - List example", async () => {
      emulator.injectFault({
        method: "GET",
        path: /\/_apis\/projects$/,
        body: example("core/projects/GET__projects.json").body,
      });
      // Projects - Get has no example: the emulator answers it for the same three projects.
      assert.deepEqual(
        await client().listProjects(),
        EXAMPLE_PROJECTS.map(({ id, name, sourceControlType }) => ({
          id,
          name,
          versionControl: sourceControlType === "Tfvc" ? "tfvc" : "git",
        })),
      );
    });

    it("whoAmI reads Microsoft's Profiles - Get example", async () => {
      emulator.injectFault({
        method: "GET",
        path: "/_apis/profile/profiles/me",
        body: example("profile/profiles/GET__profile_profiles_me.json").body,
      });
      assert.deepEqual(await client().whoAmI(), {
        id: "d6245f20-2af8-44f4-9451-8107cb2767db",
        displayName: "Normal Paulk",
        emailAddress: "fabrikamfiber16@hotmail.com",
      });
    });

    it("mapUser takes the 201 Created and location of Microsoft's materialized GraphUser", async () => {
      const materialized = example("graph/Users/MaterializeAADUserByOID.json");
      emulator.injectFault({
        method: "PATCH",
        path: "/_apis/graph/users/",
        status: materialized.status,
        body: materialized.body,
        headers: { Location: String(materialized.headers.location) },
      });
      await client().mapUser("msa.bWFwcGVk", { principalName: "CPotra@vscsi.us" });
      assert.deepEqual(
        emulator.requests.map((r) => [r.method, r.status]),
        [["PATCH", 201]],
      );
    });

    it("removeUser takes User Entitlements - Delete's 200 without a body", async () => {
      emulator.injectFault({ method: "DELETE", path: "/_apis/userentitlements/", status: 200 });
      await client().removeUser(defaultUserId("leaver@othercompany.com"));
      assert.deepEqual(
        emulator.requests.map((r) => [r.method, r.status]),
        [["DELETE", 200]],
      );
    });
  });

  describe("the emulator's answers have the shape of Microsoft's", () => {
    /** The organization connected, Sam bound to his member identity, jkhan@ a member not yet added. */
    function connected(): void {
      const w = world();
      w.tenantId = TENANT_ID;
      w.users[3] = {
        ...w.users[3],
        principalName: "sam.taylor@fabrikam.com",
        origin: "aad",
        originId: defaultObjectId(TENANT_ID, "sam.taylor@fabrikam.com"),
        id: defaultUserId("Sam.Taylor@Fabrikam.com"),
      };
      w.tenant.users.push({ userPrincipalName: "jkhan@fabrikam.com", userType: "Member" });
      emulator.world = w;
    }
    const aadUserExtras = {
      "$.user.directoryAlias: extra":
        "GraphUser defines directoryAlias (graph-7.1.json); Microsoft's entitlement examples omit it",
      "$.user.isDeletedInOrigin: extra":
        "GraphUser defines isDeletedInOrigin (graph-7.1.json); the examples omit it",
      "$.user._links.avatar: extra":
        "Graph user answers carry an avatar link (GetAllUsers.json); the entitlement examples omit it",
    };

    it("User Entitlements - Get", async () => {
      connected();
      const ours = await get(
        `/fabrikam/_apis/userentitlements/${defaultUserId("Sam.Taylor@Fabrikam.com")}?api-version=7.1`,
      );
      assertShape(example(ENTITLEMENT_BY_ID).body, ours.body, {
        ...aadUserExtras,
        "$.dateCreated: extra":
          "UserEntitlement defines dateCreated (memberEntitlementManagement-7.1.json); the example, from api-version 4.1, has none",
      });
    });

    it("User Entitlements - Search: a PagedUserEntitlementsList", async () => {
      const ours = await get("/fabrikam/_apis/userentitlements?api-version=7.1");
      assert.deepEqual(
        Object.keys(ours.body).sort(),
        definitionProperties("memberEntitlementManagement-7.1.json", "PagedUserEntitlementsList"),
      );
    });

    it("User Entitlements - Add", async () => {
      connected();
      const response = await fetch(
        `${emulator.url}/fabrikam/_apis/userentitlements?api-version=7.1`,
        {
          method: "POST",
          headers: {
            Authorization: `Basic ${Buffer.from(":test-pat").toString("base64")}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({
            accessLevel: { licensingSource: "account", accountLicenseType: "express" },
            user: { principalName: "jkhan@fabrikam.com", subjectKind: "user" },
          }),
        },
      );
      const extras = (prefix: string): Record<string, string> =>
        Object.fromEntries(
          Object.entries({
            ...aadUserExtras,
            "$.user.metaType: extra":
              "GraphUser defines metaType; the add example's user omits it, the get example has it",
            "$.dateCreated: extra": "UserEntitlement defines dateCreated; the example has none",
          }).map(([k, v]) => [k.replace("$", prefix), v]),
        );
      assertShape(example(ENTITLEMENT_ADD).body, await response.json(), {
        ...extras("$.operationResult.result"),
        ...extras("$.userEntitlement"),
      });
    });

    it("Users - List and Users - Get", async () => {
      connected();
      const list = example("graph/Users/GetAllUsers.json").body;
      const microsoftAad = (list.value as Json[]).filter((u) => u.origin === "aad");
      const ours = await get(
        "/fabrikam/_apis/graph/users?subjectTypes=aad&api-version=7.1-preview.1",
      );
      const extras = {
        "$.value[0].directoryAlias: extra":
          "GraphUser defines directoryAlias (graph-7.1.json); the example omits it",
        "$.value[0].isDeletedInOrigin: extra":
          "GraphUser defines isDeletedInOrigin; the example omits it",
      };
      assertShape({ ...list, value: microsoftAad }, ours.body, extras);

      const one = await get(
        `/fabrikam/_apis/graph/users/${String(emulatorDescriptor(emulator.world, "sam.taylor@fabrikam.com"))}?api-version=7.1-preview.1`,
      );
      assertShape(example("graph/Users/GetUserAAD.json").body, one.body, {
        "$.metaType: extra":
          "GraphUser defines metaType; Users - List's example has it, Users - Get's omits it",
        "$.directoryAlias: extra": "GraphUser defines directoryAlias; the example omits it",
        "$.isDeletedInOrigin: extra": "GraphUser defines isDeletedInOrigin; the example omits it",
      });
      for (const key of Object.keys(one.body)) {
        assert.ok(definitionProperties("graph-7.1.json", "GraphUser").includes(key), key);
      }
    });

    it("a mapping answers like a materialized GraphUser: 201 Created with location", async () => {
      connected();
      const materialized = example("graph/Users/MaterializeAADUserByOID.json");
      const descriptor = String(emulatorDescriptor(emulator.world, "jamal@outlook.com"));
      const response = await fetch(
        `${emulator.url}/fabrikam/_apis/graph/users/${descriptor}?api-version=7.1-preview.1`,
        {
          method: "PATCH",
          headers: {
            Authorization: `Basic ${Buffer.from(":test-pat").toString("base64")}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ principalName: "jkhan@fabrikam.com" }),
        },
      );
      assert.equal(response.status, materialized.status);
      const body = (await response.json()) as Json;
      assert.equal(response.headers.get("location"), body.url);
      assertShape(materialized.body, body, {
        "$.metaType: extra": "GraphUser defines metaType; the materialize example omits it",
        "$.directoryAlias: extra": "GraphUser defines directoryAlias; the example omits it",
        "$.isDeletedInOrigin: extra": "GraphUser defines isDeletedInOrigin; the example omits it",
      });
    });

    it("Projects - List and Projects - Get", async () => {
      const ours = await get("/fabrikam/_apis/projects?api-version=7.1");
      assertShape(example("core/projects/GET__projects.json").body, ours.body, {
        "$.value[0].description: missing":
          "description is optional: the example's third project has none, and world projects carry none",
        "$.value[0].revision: extra":
          "TeamProjectReference defines revision (core-7.1.json); the example is from api-version 1.0",
        "$.value[0].visibility: extra":
          "TeamProjectReference defines visibility; the example is from api-version 1.0",
        "$.value[0].lastUpdateTime: extra":
          "TeamProjectReference defines lastUpdateTime; the example is from api-version 1.0",
      });
      const project = await get(
        "/fabrikam/_apis/projects/eb6e4656-77fc-42a1-9181-4c6d8e9da5d1?includeCapabilities=true&api-version=7.1",
      );
      const defined = definitionProperties("core-7.1.json", "TeamProject");
      for (const key of Object.keys(project.body)) {
        assert.ok(defined.includes(key), `TeamProject defines ${key}`);
      }
    });

    it("Profiles - Get", async () => {
      const ours = await get("/_apis/profile/profiles/me?api-version=7.1-preview.3");
      assertShape(example("profile/profiles/GET__profile_profiles_me.json").body, ours.body, {});
    });
  });
});
