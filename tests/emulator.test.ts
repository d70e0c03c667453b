/**
 * Tests of the Azure DevOps emulator itself, over real HTTP on loopback (global fetch), so that
 * the program's tests can trust what it answers (shapes, paging, errors, faults, switches).
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as azdev from "azure-devops-node-api";
import type { Behaviour } from "./emulator/behaviour";
import {
  emulatorDescriptor,
  startEmulator,
  type Emulator,
  type RecordedRequest,
} from "./emulator/server";
import {
  defaultObjectId,
  defaultUserId,
  deterministicGuid,
  externalAddressOf,
  loadWorld,
  normalizeWorld,
  tenantUsersMatching,
  validateWorld,
  type TenantUser,
  type World,
  type WorldUser,
} from "./emulator/world";

const FIXTURE = join(__dirname, "fixtures", "world.json");
const ZERO_GUID = "00000000-0000-0000-0000-000000000000";
const TENANT_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const GUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PAT = "test-pat";
/** The Azure subscription that bills the organization in the billing tests, and its directory. */
const SUBSCRIPTION_ID = "2b53247c-fb65-469e-a711-46e0c29d15a1";
const OTHER_TENANT = "0e3b7c2a-9d41-4f8e-b6a5-1c2d3e4f5a6b";
const BASIC = `Basic ${Buffer.from(`:${PAT}`).toString("base64")}`;

type Json = Record<string, unknown>;

interface Answer {
  status: number;
  headers: Headers;
  /** The JSON body; {} for an empty or non-JSON one. */
  body: Json;
  /** The raw body (an HTML sign-in page, a bare JSON string). */
  text: string;
}

function clone(world: World): World {
  return structuredClone(world);
}

/** The fields every Azure DevOps error body carries (a serialized .NET exception). */
function assertMicrosoftError(
  answer: Answer,
  status: number,
  typeKey: string,
  messagePart?: string,
): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.headers.get("content-type") ?? "", /^application\/json; charset=utf-8$/);
  assert.equal(answer.body.$id, "1");
  assert.equal(answer.body.innerException, null);
  assert.equal(answer.body.typeKey, typeKey);
  assert.match(String(answer.body.typeName), new RegExp(`\\.${typeKey}, Microsoft\\.`));
  assert.equal(answer.body.errorCode, 0);
  assert.equal(answer.body.eventId, 3000);
  if (messagePart !== undefined) {
    assert.ok(
      String(answer.body.message).includes(messagePart),
      `message: ${String(answer.body.message)}`,
    );
  }
}

describe("Azure DevOps emulator", () => {
  let fixture: World;
  let emu: Emulator;

  async function call(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; auth?: boolean } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== false && headers.Authorization === undefined) {
      headers.Authorization = BASIC;
    }
    const response = await fetch(`${emu.url}${path}`, {
      method,
      headers,
      body: options.body,
      redirect: "manual",
    });
    const text = await response.text();
    const isJson = /^application\/json/.test(response.headers.get("content-type") ?? "");
    const parsed: unknown = isJson && text !== "" ? JSON.parse(text) : {};
    return {
      status: response.status,
      headers: response.headers,
      body: typeof parsed === "object" && parsed !== null ? (parsed as Json) : {},
      text,
    };
  }
  const get = (path: string, options?: Parameters<typeof call>[2]): Promise<Answer> =>
    call("GET", path, options);
  const post = (path: string, body: unknown): Promise<Answer> =>
    call("POST", path, {
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "Content-Type": "application/json" },
    });

  before(async () => {
    fixture = loadWorld(FIXTURE);
    emu = await startEmulator({ world: fixture, pageSize: 2 });
  });

  after(async () => {
    await emu.close();
  });

  beforeEach(() => {
    emu.world = fixture;
    emu.clearFaults();
    emu.resetRequests();
    emu.resetMutations();
  });

  describe("world fixtures", () => {
    it("loads the reference world and fills ids deterministically", () => {
      assert.equal(fixture.organization, "fabrikam");
      assert.equal(fixture.tenantId, null);
      assert.equal(fixture.users.length, 9);
      assert.deepEqual(
        fixture.projects.map((p) => [p.name, p.sourceControlType]),
        [
          ["web", "Git"],
          ["legacy", "Tfvc"],
        ],
      );
      const a = normalizeWorld(fixture);
      const b = normalizeWorld(loadWorld(FIXTURE));
      assert.deepEqual(a, b);
      for (const id of [
        a.organizationId,
        ...a.users.map((u) => u.id),
        ...a.projects.map((p) => p.id),
      ]) {
        assert.match(id, GUID_V5);
      }
      assert.equal(new Set(a.users.map((u) => u.id)).size, 9);
      const sam = a.users.find((u) => u.principalName === "Sam.Taylor@Fabrikam.com");
      assert.equal(
        sam?.id,
        defaultUserId("sam.taylor@fabrikam.com"),
        "ids ignore the case of the name",
      );
      assert.equal(sam?.mailAddress, "Sam.Taylor@Fabrikam.com");
      assert.equal(sam?.license, "express");
      const admin = a.tenant.users.find(
        (t) => t.userPrincipalName === "admin@fabrikam.onmicrosoft.com",
      );
      assert.equal(admin?.mail, null);
      assert.equal(admin?.accountEnabled, true);
      assert.equal(fixture.users[0].id, undefined, "normalizeWorld does not modify its input");
    });

    it("defaults the new optional fields so existing worlds behave as before", () => {
      const w = normalizeWorld(fixture);
      assert.deepEqual(w.administrators, []);
      assert.ok(w.tenant.users.every((t) => t.externalUserState === "Accepted"));
      assert.equal(fixture.administrators, undefined);
      const withBoth = validateWorld({
        ...clone(fixture),
        administrators: ["Sam.Taylor@Fabrikam.com"],
        tenant: {
          ...fixture.tenant,
          users: [
            ...fixture.tenant.users,
            {
              userPrincipalName: "x_y.com#EXT#@fabrikam.onmicrosoft.com",
              userType: "Member",
              externalUserState: "PendingAcceptance",
            },
          ],
        },
      });
      assert.deepEqual(withBoth.administrators, ["Sam.Taylor@Fabrikam.com"]);
      assert.equal(withBoth.tenant.users.at(-1)?.externalUserState, "PendingAcceptance");
    });

    it("reads the invited address back from a guest UPN", () => {
      assert.equal(
        externalAddressOf("guest_contoso.com#EXT#@fabrikam.onmicrosoft.com"),
        "guest@contoso.com",
      );
      assert.equal(
        externalAddressOf("First_Last_Mail.Example.com#ext#@fabrikam.onmicrosoft.com"),
        "first_last@mail.example.com",
        "the last underscore is the @",
      );
      assert.equal(externalAddressOf("sam.taylor@fabrikam.com"), undefined);
      assert.deepEqual(
        tenantUsersMatching(fixture.tenant.users, "GUEST@contoso.com").map(
          (t) => t.userPrincipalName,
        ),
        ["guest_contoso.com#EXT#@fabrikam.onmicrosoft.com"],
      );
      assert.deepEqual(
        tenantUsersMatching(fixture.tenant.users, "ada.lovelace@fabrikam.com").map(
          (t) => t.userPrincipalName,
        ),
        ["alovelace@fabrikam.com"],
      );
    });

    it("derives GUIDs from a name: stable, distinct, 8-4-4-4-12", () => {
      assert.equal(deterministicGuid("a"), deterministicGuid("a"));
      assert.notEqual(deterministicGuid("a"), deterministicGuid("b"));
      assert.match(deterministicGuid("anything"), GUID_V5);
    });

    it("names the JSON path of the first bad field", () => {
      const cases: Array<[(w: Json & World) => void, RegExp]> = [
        [
          (w) => ((w.users[2] as unknown as Json).origin = "live"),
          /users\[2\]\.origin must be one of "msa", "aad"/,
        ],
        [
          (w) => (w.owner = "nobody@fabrikam.com"),
          /owner "nobody@fabrikam.com" is not the principalName/,
        ],
        [
          (w) => (w.users[4].principalName = "SAM.TAYLOR@fabrikam.com"),
          /users\[4\]\.principalName duplicates users\[3\]/,
        ],
        [(w) => (w.tenantId = "not-a-guid"), /tenantId must be a tenant GUID/],
        [
          (w) => ((w.tenant.users[1] as unknown as Json).userType = "member"),
          /tenant\.users\[1\]\.userType/,
        ],
        [
          (w) => ((w.users[0] as unknown as Json).licence = "express"),
          /users\[0\]\.licence is not a known field/,
        ],
        [
          (w) => (w.users[1].lastAccessedDate = "yesterday"),
          /users\[1\]\.lastAccessedDate must be an ISO 8601/,
        ],
        [(w) => ((w as Json).projects = "web"), /projects must be an array/],
        [
          (w) => (w.tokens = { t: "not an address" }),
          /tokens \(entry 1\) must map to a principal name/,
        ],
        [
          (w) => (w.administrators = ["sam.taylor@fabrikam.com", "nobody@fabrikam.com"]),
          /administrators\[1\] "nobody@fabrikam.com" is not the principalName/,
        ],
        [
          (w) => (w.administrators = ["guest@contoso.com", "GUEST@contoso.com"]),
          /administrators\[1\] duplicates administrators\[0\]/,
        ],
        [
          (w) => ((w.tenant.users[2] as unknown as Json).externalUserState = "Pending"),
          /tenant\.users\[2\]\.externalUserState must be one of "PendingAcceptance", "Accepted"/,
        ],
        [
          (w) => (w.users[1].originId = deterministicGuid("some object")),
          /users\[1\]\.originId is only allowed with origin "aad" \(got origin "msa"\)/,
        ],
        [
          (w) => Object.assign(w.users[1], { origin: "aad", originId: "42" }),
          /users\[1\]\.originId must be a GUID/,
        ],
        [
          (w) => {
            const originId = deterministicGuid("one identity");
            Object.assign(w.users[1], { origin: "aad", originId });
            Object.assign(w.users[3], { origin: "aad", originId: originId.toUpperCase() });
          },
          /users\[3\]\.originId duplicates users\[1\]\.originId/,
        ],
        [
          (w) => (w.billing = { subscriptionId: "sub-1", subscriptionTenantId: TENANT_ID }),
          /billing\.subscriptionId must be a subscription GUID \(got "sub-1"\)/,
        ],
        [
          (w) => ((w as Json).billing = { subscriptionId: SUBSCRIPTION_ID }),
          /billing\.subscriptionTenantId must be a non-empty string/,
        ],
        [
          (w) =>
            ((w as Json).billing = {
              subscriptionId: SUBSCRIPTION_ID,
              subscriptionTenantId: OTHER_TENANT,
              tenant: OTHER_TENANT,
            }),
          /billing\.tenant is not a known field/,
        ],
        [(w) => ((w as Json).billing = "none"), /billing must be an object/],
      ];
      for (const [mutate, expected] of cases) {
        const world = clone(fixture) as Json & World;
        mutate(world);
        assert.throws(() => validateWorld(world), expected);
      }
      assert.throws(() => validateWorld(null), /invalid world: \(root\) must be an object/);
    });

    it("loadWorld names the file when it is missing or not JSON", () => {
      const dir = mkdtempSync(join(tmpdir(), "emulator-world-"));
      try {
        const bad = join(dir, "bad.json");
        writeFileSync(bad, "\uFEFF{ not json");
        assert.throws(
          () => loadWorld(bad),
          (err: Error) => err.message.includes(bad) && /not valid JSON/.test(err.message),
        );
        assert.throws(
          () => loadWorld(join(dir, "missing.json")),
          /cannot read world fixture .*missing\.json/,
        );
        const wrong = join(dir, "wrong.json");
        writeFileSync(wrong, JSON.stringify({ ...fixture, caller: 42 }));
        assert.throws(
          () => loadWorld(wrong),
          /wrong\.json: invalid world: caller must be a non-empty string/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("authentication and api-version", () => {
    it("answers 401 with WWW-Authenticate: Bearer when no credentials are sent", async () => {
      const answer = await get("/fabrikam/_apis/projects?api-version=7.1", { auth: false });
      assertMicrosoftError(answer, 401, "UnauthorizedRequestException", "TF400813");
      assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.deepEqual(
        emu.requests.map((r) => [r.status, r.auth]),
        [[401, "none"]],
      );
    });

    it("accepts a PAT as Basic with any user name, and a Bearer token", async () => {
      const withUser = `Basic ${Buffer.from(`PAT:${PAT}`).toString("base64")}`;
      assert.equal(
        (
          await get("/fabrikam/_apis/projects?api-version=7.1", {
            headers: { Authorization: withUser },
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await get("/fabrikam/_apis/projects?api-version=7.1", {
            headers: { Authorization: "Bearer eyJ0" },
          })
        ).status,
        200,
      );
      const emptyPassword = `Basic ${Buffer.from("user:").toString("base64")}`;
      assert.equal(
        (
          await get("/fabrikam/_apis/projects?api-version=7.1", {
            headers: { Authorization: emptyPassword },
          })
        ).status,
        401,
      );
      assert.deepEqual(
        emu.requests.map((r) => r.auth),
        ["basic", "bearer", "basic"],
      );
    });

    it("serves a GET without api-version; other methods need one, in the query or the Accept header", async () => {
      assert.equal((await get("/fabrikam/_apis/projects")).status, 200, "the server decides");
      assertMicrosoftError(
        await post("/fabrikam/_apis/userentitlements", {
          accessLevel: { accountLicenseType: "express" },
          user: { principalName: "new@example.com" },
        }),
        400,
        "VssVersionNotSpecifiedException",
        'for the "POST" request',
      );
      const viaAccept = await get("/fabrikam/_apis/projects", {
        headers: { Accept: "application/json;api-version=7.1" },
      });
      assert.equal(viaAccept.status, 200);
      assertMicrosoftError(
        await get("/fabrikam/_apis/projects?api-version=abc"),
        400,
        "VssInvalidApiResourceVersionException",
        'Invalid api version string: "abc"',
      );
      assertMicrosoftError(
        await get("/fabrikam/_apis/projects?api-version=8.0"),
        400,
        "VssVersionOutOfRangeException",
        "7.2",
      );
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.2-preview.4")).status, 200);
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.0")).status, 200);
      // Graph users have never been released: a version without -preview is refused, as the service does.
      assertMicrosoftError(
        await get("/fabrikam/_apis/graph/users?api-version=7.1"),
        400,
        "VssInvalidPreviewVersionException",
      );
      assert.equal(
        (await get("/fabrikam/_apis/graph/users?api-version=7.1-preview.1")).status,
        200,
      );
    });

    it("answers 404 for another organization and for unknown routes", async () => {
      assertMicrosoftError(
        await get("/contoso/_apis/projects?api-version=7.1"),
        404,
        "HostDoesNotExistException",
        "contoso",
      );
      assert.equal(
        (await get("/FABRIKAM/_APIS/Projects?api-version=7.1")).status,
        200,
        "routes ignore case",
      );
      assertMicrosoftError(
        await get("/fabrikam/_apis/nothing?api-version=7.1"),
        404,
        "VssResourceNotFoundException",
      );
      assertMicrosoftError(
        await call("PATCH", "/fabrikam/_apis/projects?api-version=7.1"),
        404,
        "VssResourceNotFoundException",
        "does not serve PATCH",
      );
    });
  });

  describe("user entitlements", () => {
    it("pages through every user with continuation tokens", async () => {
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const query: string =
          token === null ? "" : `&continuationToken=${encodeURIComponent(token)}`;
        const answer = await get(`/fabrikam/_apis/userentitlements?api-version=7.1${query}`);
        assert.equal(answer.status, 200);
        assert.equal(answer.body.totalCount, 9);
        const items = answer.body.items as Json[];
        assert.ok(items.length > 0 && items.length <= 2);
        seen.push(...items.map((i) => String((i.user as Json).principalName)));
        token = answer.body.continuationToken as string | null;
        pages += 1;
      } while (token !== null);
      assert.equal(pages, 5);
      assert.equal(new Set(seen).size, seen.length, "no user twice");
      assert.deepEqual(
        seen,
        fixture.users.map((u) => u.principalName),
      );
    });

    it("shapes an entitlement like the service", async () => {
      const first = (await get("/fabrikam/_apis/userentitlements?api-version=7.1")).body
        .items as Json[];
      const owner = first[0];
      assert.equal(owner.id, defaultUserId("jamalhartnett@fabrikam.com"));
      assert.deepEqual(owner.accessLevel, {
        licensingSource: "account",
        accountLicenseType: "express",
        msdnLicenseType: "none",
        licenseDisplayName: "Basic",
        status: "active",
        statusMessage: "",
        assignmentSource: "unknown",
      });
      const user = owner.user as Json;
      assert.equal(user.subjectKind, "user");
      assert.equal(user.origin, "msa");
      assert.equal(user.domain, "Windows Live ID");
      assert.equal(user.mailAddress, "jamalhartnett@fabrikam.com");
      assert.match(String(user.descriptor), /^msa\.[A-Za-z0-9_-]+$/);
      assert.equal(owner.lastAccessedDate, "2025-11-20T08:15:00Z");
      const never = await get(
        `/fabrikam/_apis/userentitlements/${defaultUserId("dev.someone@gmail.com")}?api-version=7.1`,
      );
      assert.equal(never.body.lastAccessedDate, "0001-01-01T00:00:00Z");
    });

    it("rejects a continuation token it did not issue", async () => {
      assertMicrosoftError(
        await get("/fabrikam/_apis/userentitlements?api-version=7.1&continuationToken=abc"),
        400,
        "InvalidArgumentValueException",
        "continuation token",
      );
    });

    it("filters with $filter clauses joined by and, or and parentheses", async () => {
      // Pages through every answer (page size 2 here).
      const names = async (filter: string): Promise<string[]> => {
        const found: string[] = [];
        let token: string | null = null;
        do {
          const more: string =
            token === null ? "" : `&continuationToken=${encodeURIComponent(token)}`;
          const answer = await get(
            `/fabrikam/_apis/userentitlements?api-version=7.1&$filter=${encodeURIComponent(filter)}${more}`,
          );
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          found.push(
            ...(answer.body.items as Json[]).map((i) => String((i.user as Json).principalName)),
          );
          token = answer.body.continuationToken as string | null;
        } while (token !== null);
        return found;
      };
      assert.deepEqual(await names("name eq 'LOVELACE'"), ["ada.lovelace@fabrikam.com"]);
      assert.deepEqual(
        await names("name eq 'Jamal Khan'"),
        ["jamal@outlook.com"],
        "display names match too",
      );
      assert.deepEqual(await names("licenseStatus eq 'Disabled'"), ["leaver@othercompany.com"]);
      assert.deepEqual(await names("licenseId eq 'Account-Stakeholder'"), []);
      const both = await get(
        `/fabrikam/_apis/userentitlements?api-version=7.1&$filter=${encodeURIComponent("licenseId eq 'Account-Express' and name eq 'othercompany'")}`,
      );
      assert.equal(both.body.totalCount, 2);
      assert.deepEqual(await names("userType eq 'guest' and name eq 'othercompany'"), [
        "partner@othercompany.com",
        "leaver@othercompany.com",
      ]);
      assert.deepEqual(await names("userType eq 'member'"), [
        "jamalhartnett@fabrikam.com",
        "Sam.Taylor@Fabrikam.com",
        "olduser@fabrikam.com",
        "ada.lovelace@fabrikam.com",
      ]);
      assertMicrosoftError(
        await get(
          `/fabrikam/_apis/userentitlements?api-version=7.1&$filter=${encodeURIComponent("email eq 'x'")}`,
        ),
        400,
        "InvalidArgumentValueException",
        "'email'",
      );
      assert.deepEqual(await names("name eq 'gmail' or name eq 'contoso'"), [
        "dev.someone@gmail.com",
        "guest@contoso.com",
      ]);
      // The spec's own example: `or` inside parentheses, `and` binding tighter than `or`.
      assert.deepEqual(
        await names(
          "(licenseId eq 'Account-Stakeholder' or (licenseId eq 'Account-Express')) and name eq 'Sam'",
        ),
        ["Sam.Taylor@Fabrikam.com"],
      );
      assert.deepEqual(
        await names("name eq 'Sam' or name eq 'Ada' and licenseStatus eq 'disabled'"),
        ["Sam.Taylor@Fabrikam.com"],
        "and binds tighter than or",
      );
      for (const bad of ["(name eq 'a'", "name eq 'a' or", "name eq 'a' xor name eq 'b'"]) {
        assertMicrosoftError(
          await get(
            `/fabrikam/_apis/userentitlements?api-version=7.1&$filter=${encodeURIComponent(bad)}`,
          ),
          400,
          "InvalidArgumentValueException",
          "cannot be parsed",
        );
      }
    });

    it("gets one entitlement by id, 404 naming an unknown id, 400 for a malformed one", async () => {
      const id = defaultUserId("guest@contoso.com");
      const answer = await get(`/fabrikam/_apis/userentitlements/${id}?api-version=7.1`);
      assert.equal(answer.status, 200);
      assert.equal((answer.body.user as Json).principalName, "guest@contoso.com");
      const unknown = deterministicGuid("nobody");
      assertMicrosoftError(
        await get(`/fabrikam/_apis/userentitlements/${unknown}?api-version=7.1`),
        404,
        "MemberNotFoundException",
        unknown,
      );
      assertMicrosoftError(
        await get("/fabrikam/_apis/userentitlements/42?api-version=7.1"),
        400,
        "InvalidArgumentValueException",
      );
    });

    it("refuses a body that is not JSON with HTTP 400, a missing principal or license with HTTP 200", async () => {
      const url = "/fabrikam/_apis/userentitlements?api-version=7.1";
      assertMicrosoftError(
        await post(url, "{ nope"),
        400,
        "InvalidArgumentValueException",
        "not valid JSON",
      );
      const refusal = (answer: Answer): Json => {
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.isSuccess, false);
        return ((answer.body.operationResult as Json).errors as Json[])[0];
      };
      assert.deepEqual(
        refusal(
          await post(url, {
            accessLevel: { licensingSource: "account", accountLicenseType: "express" },
            user: { subjectKind: "user" },
          }),
        ),
        {
          key: "5000",
          value:
            "The Id, OriginId, or User.PrincipalName must be set. The Principal Name is usually an email address.",
        },
      );
      assert.deepEqual(
        refusal(
          await post(url, { user: { principalName: "new@example.com", subjectKind: "user" } }),
        ),
        { key: "5000", value: "Invalid license type." },
      );
      assert.deepEqual(
        refusal(
          await post(url, {
            accessLevel: { accountLicenseType: "express" },
            user: { principalName: "not-an-address" },
          }),
        ),
        { key: "5000", value: "Given email address 'not-an-address' is invalid." },
      );
      assert.equal(emu.world.users.length, 9);
    });

    it("answers refused adds with HTTP 200 and isSuccess:false", async () => {
      const url = "/fabrikam/_apis/userentitlements?api-version=7.1";
      const badLicense = await post(url, {
        accessLevel: { licensingSource: "account", accountLicenseType: "platinum" },
        user: { principalName: "new@example.com", subjectKind: "user" },
      });
      assert.equal(badLicense.status, 200);
      assert.equal(badLicense.body.isSuccess, false);
      assert.equal(badLicense.body.userEntitlement, null);
      const result = badLicense.body.operationResult as Json;
      assert.equal(result.isSuccess, false);
      assert.equal(result.userId, ZERO_GUID);
      assert.equal(result.result, null);
      assert.deepEqual(result.errors, [{ key: "5000", value: "Invalid license type." }]);

      const duplicate = await post(url, {
        accessLevel: { licensingSource: "account", accountLicenseType: "express" },
        user: { principalName: "SAM.TAYLOR@fabrikam.com", subjectKind: "user" },
      });
      assert.equal(duplicate.status, 200);
      assert.equal(duplicate.body.isSuccess, false);
      assert.equal(emu.world.users.length, 9);
    });

    it("adds a user: isSuccess:true, then listed and fetchable", async () => {
      const answer = await post("/fabrikam/_apis/userentitlements?api-version=7.1", {
        accessLevel: { licensingSource: "account", accountLicenseType: "express" },
        user: { principalName: "fabrikam@outlook.com", subjectKind: "user" },
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.isSuccess, true);
      const entitlement = answer.body.userEntitlement as Json;
      const id = defaultUserId("fabrikam@outlook.com");
      assert.equal(entitlement.id, id);
      assert.equal((entitlement.user as Json).origin, "msa");
      assert.equal((entitlement.accessLevel as Json).accountLicenseType, "express");
      assert.equal(
        entitlement.lastAccessedDate,
        "0001-01-01T00:00:00Z",
        "a new user has never signed in",
      );
      const result = answer.body.operationResult as Json;
      assert.equal(result.isSuccess, true);
      assert.deepEqual(result.errors, []);
      assert.equal(result.userId, id);

      assert.equal(
        (await get("/fabrikam/_apis/userentitlements?api-version=7.1")).body.totalCount,
        10,
      );
      assert.equal(
        (await get(`/fabrikam/_apis/userentitlements/${id}?api-version=7.1`)).status,
        200,
      );
      assert.equal(emu.world.users.at(-1)?.principalName, "fabrikam@outlook.com");
      assert.equal(
        fixture.users.length,
        9,
        "the emulator works on a copy of the world it was given",
      );
    });

    it("deletes a user: 200, then 404", async () => {
      const id = defaultUserId("leaver@othercompany.com");
      const first = await call("DELETE", `/fabrikam/_apis/userentitlements/${id}?api-version=7.1`);
      assert.equal(first.status, 200);
      assert.equal(first.text, "", "User Entitlements - Delete answers no body");
      assertMicrosoftError(
        await call("DELETE", `/fabrikam/_apis/userentitlements/${id}?api-version=7.1`),
        404,
        "MemberNotFoundException",
      );
      assert.equal(
        (await get("/fabrikam/_apis/userentitlements?api-version=7.1")).body.totalCount,
        8,
      );
      assert.ok(!emu.world.users.some((u) => u.principalName === "leaver@othercompany.com"));
    });

    it("refuses to delete the current owner (ownership must be handed back first)", async () => {
      const id = defaultUserId("jamalhartnett@fabrikam.com");
      assertMicrosoftError(
        await call("DELETE", `/fabrikam/_apis/userentitlements/${id}?api-version=7.1`),
        400,
        "InvalidArgumentValueException",
        "owns the organization 'fabrikam' and cannot be removed; change the owner first",
      );
      assert.equal(emu.world.owner, "jamalhartnett@fabrikam.com");
      assert.equal(emu.mutations.length, 0);
    });
  });

  describe("graph users", () => {
    it("pages with the X-MS-ContinuationToken response header", async () => {
      const descriptors: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const query: string =
          token === null ? "" : `&continuationToken=${encodeURIComponent(token)}`;
        const answer = await get(
          `/fabrikam/_apis/graph/users?subjectTypes=msa,aad&api-version=7.1-preview.1${query}`,
        );
        assert.equal(answer.status, 200);
        const value = answer.body.value as Json[];
        assert.equal(answer.body.count, value.length);
        for (const user of value) {
          assert.equal(user.domain, "Windows Live ID");
          descriptors.push(String(user.descriptor));
        }
        token = answer.headers.get("x-ms-continuationtoken");
        pages += 1;
      } while (token !== null);
      assert.equal(pages, 5);
      assert.equal(descriptors.length, 9);
      assert.equal(new Set(descriptors).size, 9);
    });

    it("filters by subjectTypes and shows Entra users of a connected organization", async () => {
      const none = await get(
        "/fabrikam/_apis/graph/users?subjectTypes=aad&api-version=7.1-preview.1",
      );
      assert.deepEqual(none.body, { count: 0, value: [] });

      const connected = clone(fixture);
      connected.tenantId = TENANT_ID;
      connected.users.push({ principalName: "alovelace@fabrikam.com", origin: "aad" });
      emu.world = connected;
      const aad = await get(
        "/fabrikam/_apis/graph/users?subjectTypes=aad&api-version=7.1-preview.1",
      );
      const [ada] = aad.body.value as Json[];
      assert.equal(aad.body.count, 1);
      assert.equal(ada.domain, TENANT_ID);
      assert.equal(ada.metaType, "member");
      assert.equal(
        ada.originId,
        normalizeWorld(connected).tenant.users.find(
          (t) => t.userPrincipalName === "alovelace@fabrikam.com",
        )?.objectId,
      );
      assert.match(String(ada.descriptor), /^aad\./);
    });

    it("gets one user by descriptor, 404 for an unknown one", async () => {
      const [first] = (await get("/fabrikam/_apis/graph/users?api-version=7.1-preview.1")).body
        .value as Json[];
      const one = await get(
        `/fabrikam/_apis/graph/users/${String(first.descriptor)}?api-version=7.1-preview.1`,
      );
      assert.equal(one.status, 200);
      assert.equal(one.body.principalName, "jamalhartnett@fabrikam.com");
      assertMicrosoftError(
        await get("/fabrikam/_apis/graph/users/msa.bm9ib2R5?api-version=7.1-preview.1"),
        404,
        "GraphSubjectNotFoundException",
        "msa.bm9ib2R5",
      );
    });
  });

  describe("projects", () => {
    it("lists projects with $top and $skip", async () => {
      const all = await get("/fabrikam/_apis/projects?api-version=7.1");
      assert.equal(all.body.count, 2);
      const value = all.body.value as Json[];
      assert.deepEqual(
        value.map((p) => p.name),
        ["web", "legacy"],
      );
      assert.equal(value[0].state, "wellFormed");
      assert.equal(value[0].visibility, "private");
      assert.match(String(value[0].id), GUID_V5);
      assert.equal(all.headers.get("x-ms-continuationtoken"), null);
      const second = await get("/fabrikam/_apis/projects?api-version=7.1&$top=1&$skip=1");
      assert.deepEqual(
        (second.body.value as Json[]).map((p) => p.name),
        ["legacy"],
      );
      const firstOfTwo = await get("/fabrikam/_apis/projects?api-version=7.1&$top=1");
      assert.equal(firstOfTwo.headers.get("x-ms-continuationtoken"), "1");
      assertMicrosoftError(
        await get("/fabrikam/_apis/projects?api-version=7.1&$top=-1"),
        400,
        "InvalidArgumentValueException",
        "$top",
      );
    });

    it("gets a project by name or id, with capabilities only when asked", async () => {
      const legacy = await get(
        "/fabrikam/_apis/projects/LEGACY?includeCapabilities=true&api-version=7.1",
      );
      assert.equal(legacy.status, 200);
      assert.deepEqual((legacy.body.capabilities as Json).versioncontrol, {
        sourceControlType: "Tfvc",
        gitEnabled: "False",
        tfvcEnabled: "True",
      });
      assert.equal(
        ((legacy.body.capabilities as Json).processTemplate as Json).templateName,
        "Agile",
      );
      const web = await get(`/fabrikam/_apis/projects/${String(legacy.body.id)}?api-version=7.1`);
      assert.equal(web.body.name, "legacy");
      assert.equal(web.body.capabilities, undefined);
      const git = await get(
        "/fabrikam/_apis/projects/web?includeCapabilities=true&api-version=7.1",
      );
      assert.equal(
        ((git.body.capabilities as Json).versioncontrol as Json).sourceControlType,
        "Git",
      );
    });

    it("answers 404 for an unknown project", async () => {
      assertMicrosoftError(
        await get("/fabrikam/_apis/projects/mobile?api-version=7.1"),
        404,
        "ProjectDoesNotExistWithNameException",
        "mobile",
      );
      assertMicrosoftError(
        await get(`/fabrikam/_apis/projects/${deterministicGuid("x")}?api-version=7.1`),
        404,
        "ProjectDoesNotExistException",
      );
    });
  });

  describe("organization and identity", () => {
    it("reports the owner and tenant in Organization/Collections/Me", async () => {
      const me = await get("/fabrikam/_apis/Organization/Collections/Me?api-version=7.1-preview.1");
      assert.equal(me.status, 200);
      assert.equal(me.body.name, "fabrikam");
      assert.equal(me.body.owner, defaultUserId("jamalhartnett@fabrikam.com"));
      assert.equal(me.body.tenantId, ZERO_GUID);
      assert.equal(me.body.status, "enabled");
      assert.match(String(me.body.id), GUID_V5);

      emu.world = { ...clone(fixture), tenantId: TENANT_ID, owner: "ada.lovelace@fabrikam.com" };
      const after = await get(
        "/fabrikam/_apis/Organization/Collections/Me?api-version=7.1-preview.1",
      );
      assert.equal(after.body.tenantId, TENANT_ID);
      assert.equal(after.body.owner, defaultUserId("ada.lovelace@fabrikam.com"));
    });

    it("answers HEAD /{org} without credentials 401 with X-VSS-ResourceTenant, with credentials 200", async () => {
      const msa = await call("HEAD", "/fabrikam", { auth: false });
      assert.equal(msa.status, 401);
      assert.equal(msa.headers.get("x-vss-resourcetenant"), ZERO_GUID);
      assert.match(msa.headers.get("www-authenticate") ?? "", /^Bearer authorization_uri=/);
      emu.world = { ...clone(fixture), tenantId: TENANT_ID };
      const connected = await call("HEAD", "/fabrikam", { auth: false });
      assert.equal(connected.headers.get("x-vss-resourcetenant"), TENANT_ID);
      const authenticated = await call("HEAD", "/fabrikam");
      assert.equal(authenticated.status, 200);
      assert.equal(authenticated.headers.get("x-vss-resourcetenant"), TENANT_ID);
      assert.equal((await call("HEAD", "/contoso", { auth: false })).status, 404);
    });

    it("answers profile 'me' for world.caller, or for the principal of each token", async () => {
      const me = await get("/_apis/profile/profiles/me?api-version=7.1-preview.3");
      assert.equal(me.status, 200);
      assert.equal(me.body.emailAddress, "jamalhartnett@fabrikam.com");
      assert.equal(me.body.id, defaultUserId("jamalhartnett@fabrikam.com"));
      assert.equal(me.body.displayName, "Jamal Hartnett");
      assert.equal(me.body.publicAlias, me.body.id);

      emu.world = {
        ...clone(fixture),
        tokens: { "pat-owner": "jamalhartnett@fabrikam.com", "pat-temp": "fabrikam@outlook.com" },
      };
      const asTemp = await get("/_apis/profile/profiles/me?api-version=7.1-preview.3", {
        headers: { Authorization: `Basic ${Buffer.from(":pat-temp").toString("base64")}` },
      });
      assert.equal(asTemp.body.emailAddress, "fabrikam@outlook.com");
      assert.equal(asTemp.body.id, defaultUserId("fabrikam@outlook.com"));
      const asOwner = await get("/_apis/profile/profiles/me?api-version=7.1-preview.3", {
        headers: { Authorization: "Bearer pat-owner" },
      });
      assert.equal(asOwner.body.emailAddress, "jamalhartnett@fabrikam.com");
      const refused = await get("/_apis/profile/profiles/me?api-version=7.1-preview.3");
      assert.equal(refused.status, 203, "a token the world does not list gets the sign-in page");
      assert.match(refused.headers.get("content-type") ?? "", /^text\/html/);
    });
  });

  describe("owner change and tenant connection", () => {
    const COLLECTION = "/fabrikam/_apis/Organization/Collections/Me?api-version=7.1-preview.1";
    const ORGANIZATION = "/fabrikam/_apis/Organization/Organizations/Me?api-version=5.0-preview.1";
    const TEMP = "fabrikam@outlook.com";
    const TEMP_GUEST_UPN = "fabrikam_outlook.com#EXT#@fabrikam.onmicrosoft.com";
    const NOT_ACTIVE = "Only active members of the AAD tenant are allowed to perform the link";
    const tokens = {
      "pat-jamal": "jamalhartnett@fabrikam.com",
      "pat-sam": "Sam.Taylor@Fabrikam.com",
      "pat-ada": "ada.lovelace@fabrikam.com",
      "pat-guest": "guest@contoso.com",
      "pat-temp": TEMP,
    };
    type Token = keyof typeof tokens;
    const as = (token: Token): Record<string, string> => ({
      Authorization: `Basic ${Buffer.from(`:${token}`).toString("base64")}`,
    });

    /** The portal's body: `[{"from":"","op":2,"path":…,"value":…}]`, json-patch media type. */
    function patch(
      path: string,
      field: string,
      value: unknown,
      token: Token,
      options: { op?: unknown; contentType?: string; body?: string } = {},
    ): Promise<Answer> {
      return call("PATCH", path, {
        headers: {
          ...as(token),
          "Content-Type": options.contentType ?? "application/json-patch+json",
        },
        body:
          options.body ?? JSON.stringify([{ from: "", op: options.op ?? 2, path: field, value }]),
      });
    }
    const changeOwner = (principalName: string, token: Token): Promise<Answer> =>
      patch(COLLECTION, "/Owner", defaultUserId(principalName), token);
    const connect = (tenantId: string, token: Token): Promise<Answer> =>
      patch(ORGANIZATION, "/TenantId", tenantId, token);

    function world(edit: (w: World) => void = () => undefined): World {
      const w = clone(fixture);
      w.tokens = { ...tokens };
      edit(w);
      return w;
    }

    beforeEach(() => {
      emu.world = world();
    });

    it("changes the owner; the previous owner stays a Project Collection Administrator", async () => {
      const answer = await changeOwner("Sam.Taylor@Fabrikam.com", "pat-jamal");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.owner, defaultUserId("sam.taylor@fabrikam.com"));
      assert.equal(answer.body.tenantId, ZERO_GUID);
      assert.equal(answer.body.name, "fabrikam");
      assert.deepEqual(
        answer.body,
        (await get(COLLECTION, { headers: as("pat-sam") })).body,
        "the Collections/Me shape",
      );
      assert.equal(emu.world.owner, "Sam.Taylor@Fabrikam.com");
      assert.deepEqual(emu.world.administrators, ["jamalhartnett@fabrikam.com"]);

      // As an administrator, the previous owner can take ownership back (the temporary-owner path).
      const back = await patch(
        COLLECTION,
        "/owner",
        defaultUserId("jamalhartnett@fabrikam.com"),
        "pat-jamal",
        {
          op: "replace",
          contentType: "application/json",
        },
      );
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.equal(emu.world.owner, "jamalhartnett@fabrikam.com");
      assert.deepEqual(emu.world.administrators, [
        "jamalhartnett@fabrikam.com",
        "Sam.Taylor@Fabrikam.com",
      ]);
      assert.deepEqual(emu.mutations, [
        { kind: "owner", value: "Sam.Taylor@Fabrikam.com", by: "jamalhartnett@fabrikam.com" },
        { kind: "owner", value: "jamalhartnett@fabrikam.com", by: "jamalhartnett@fabrikam.com" },
      ]);
      assert.doesNotThrow(() => validateWorld(emu.world), "the changed world is still valid");
    });

    it("refuses an owner change by a caller who is not a Project Collection Administrator", async () => {
      assertMicrosoftError(
        await changeOwner("Sam.Taylor@Fabrikam.com", "pat-sam"),
        403,
        "AccessCheckException",
        "Project Collection Administrators",
      );
      assert.equal(emu.world.owner, "jamalhartnett@fabrikam.com");
      emu.world = world((w) => (w.administrators = ["sam.taylor@fabrikam.com"]));
      assert.equal((await changeOwner("Sam.Taylor@Fabrikam.com", "pat-sam")).status, 200);
      assert.deepEqual(
        emu.mutations.map((m) => m.by),
        ["Sam.Taylor@Fabrikam.com"],
        "only the successful change is logged",
      );
    });

    it("acts as world.caller when the world has no tokens", async () => {
      emu.world = { ...clone(fixture), caller: "Sam.Taylor@Fabrikam.com" };
      assertMicrosoftError(
        await patch(COLLECTION, "/Owner", defaultUserId("ada.lovelace@fabrikam.com"), "pat-sam"),
        403,
        "AccessCheckException",
        "Sam.Taylor@Fabrikam.com",
      );
    });

    it("answers 404 for an id that is not an organization user, 400 naming a malformed request", async () => {
      const unknown = deterministicGuid("nobody");
      assertMicrosoftError(
        await patch(COLLECTION, "/Owner", unknown, "pat-jamal"),
        404,
        "IdentityNotFoundException",
        unknown,
      );
      const cases: Array<[Parameters<typeof patch>, string]> = [
        [[COLLECTION, "/Owner", "42", "pat-jamal"], "not a valid GUID"],
        [[COLLECTION, "/Name", unknown, "pat-jamal"], '"/Name"'],
        [[COLLECTION, "/Owner", unknown, "pat-jamal", { op: 0 }], "only replace"],
        [[COLLECTION, "/Owner", unknown, "pat-jamal", { body: "{ nope" }], "not valid JSON"],
        [[COLLECTION, "/Owner", unknown, "pat-jamal", { body: "{}" }], "JSON patch document"],
        [[COLLECTION, "/Owner", unknown, "pat-jamal", { body: "[]" }], "exactly one operation"],
      ];
      for (const [args, message] of cases) {
        assertMicrosoftError(await patch(...args), 400, "InvalidArgumentValueException", message);
      }
      assertMicrosoftError(
        await patch(COLLECTION, "/Owner", unknown, "pat-jamal", { contentType: "text/plain" }),
        415,
        "VssRequestContentTypeNotSupportedException",
        "application/json-patch+json",
      );
      assert.equal(emu.world.owner, "jamalhartnett@fabrikam.com");
      assert.deepEqual(emu.mutations, []);
    });

    it("refuses a new owner who never signed in, until they do", async () => {
      const refused = await changeOwner("dev.someone@gmail.com", "pat-jamal");
      assertMicrosoftError(
        refused,
        400,
        "OrganizationOwnerNotActiveException",
        "must have signed in to the organization at least once",
      );
      assert.equal(emu.world.owner, "jamalhartnett@fabrikam.com");
      const user = emu.signIn("DEV.SOMEONE@gmail.com");
      assert.equal(user.principalName, "dev.someone@gmail.com");
      assert.ok(Date.now() - Date.parse(String(user.lastAccessedDate)) < 60_000);
      assert.equal((await changeOwner("dev.someone@gmail.com", "pat-jamal")).status, 200);
      assert.equal(emu.world.owner, "dev.someone@gmail.com");
    });

    it("connects an owner who is an active tenant member; the HEAD header follows", async () => {
      // Ada's MSA address is her tenant mail, not her UPN (alovelace@): no MSA/Entra clash.
      emu.world = world((w) => (w.owner = "ada.lovelace@fabrikam.com"));
      const answer = await connect(TENANT_ID.toUpperCase(), "pat-ada");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.tenantId, TENANT_ID);
      assert.equal(answer.body.owner, defaultUserId("ada.lovelace@fabrikam.com"));
      assert.equal(emu.world.tenantId, TENANT_ID, "stored lower-case");
      const head = await call("HEAD", "/fabrikam", { auth: false });
      assert.equal(head.headers.get("x-vss-resourcetenant"), TENANT_ID);
      // The connection binds users by sign-in address: Ada's MSA address is only her member's
      // mail, so she stays a Microsoft account (disconnected) and keeps her name.
      const ada = emu.world.users.find((u) => u.displayName === "Ada Lovelace");
      assert.equal(ada?.origin, "msa");
      assert.equal(emu.world.owner, "ada.lovelace@fabrikam.com");
      assert.equal(emu.world.users.find((u) => u.displayName === "Sam Taylor")?.origin, "aad");
      assert.deepEqual(emu.mutations, [
        { kind: "tenant", value: TENANT_ID, by: "ada.lovelace@fabrikam.com" },
      ]);

      // Binding by mail too: Ada is bound to her member identity, her principalName becomes her
      // UPN and the owner follows; the mutation names her as she was when she connected.
      emu.world = world((w) => {
        w.owner = "ada.lovelace@fabrikam.com";
        w.behaviour = { connectBinding: "upnOrMail" };
      });
      emu.resetMutations();
      assert.equal((await connect(TENANT_ID, "pat-ada")).status, 200);
      const bound = emu.world.users.find((u) => u.displayName === "Ada Lovelace");
      assert.equal(bound?.origin, "aad");
      assert.equal(bound?.principalName, "alovelace@fabrikam.com");
      assert.equal(emu.world.owner, "alovelace@fabrikam.com");
      assert.deepEqual(emu.mutations, [
        { kind: "tenant", value: TENANT_ID, by: "ada.lovelace@fabrikam.com" },
      ]);
    });

    it("refuses a guest, a disabled member and a pending invitation with Microsoft's message", async () => {
      emu.world = world((w) => (w.owner = "guest@contoso.com"));
      assertMicrosoftError(
        await connect(TENANT_ID, "pat-guest"),
        403,
        "TenantLinkNotAllowedException",
      );
      const guest = await connect(TENANT_ID, "pat-guest");
      assert.equal(guest.body.message, NOT_ACTIVE);

      emu.world = world((w) => {
        w.owner = "ada.lovelace@fabrikam.com";
        w.tenant.users[4].accountEnabled = false;
      });
      assert.equal((await connect(TENANT_ID, "pat-ada")).body.message, NOT_ACTIVE);

      emu.world = world((w) => {
        w.owner = "ada.lovelace@fabrikam.com";
        w.tenant.users[4].externalUserState = "PendingAcceptance";
      });
      const pending = await connect(TENANT_ID, "pat-ada");
      assert.equal(pending.status, 403);
      assert.equal(pending.body.message, NOT_ACTIVE);
      emu.redeem("alovelace@fabrikam.com");
      assert.equal((await connect(TENANT_ID, "pat-ada")).status, 200);

      // Not in the tenant at all.
      emu.world = world((w) => (w.owner = "partner@othercompany.com"));
      emu.world.tokens = { ...tokens, "pat-partner": "partner@othercompany.com" };
      const stranger = await call("PATCH", ORGANIZATION, {
        headers: {
          Authorization: `Basic ${Buffer.from(":pat-partner").toString("base64")}`,
          "Content-Type": "application/json-patch+json",
        },
        body: JSON.stringify([{ from: "", op: 2, path: "/TenantId", value: TENANT_ID }]),
      });
      assert.equal(stranger.status, 403);
      assert.equal(stranger.body.message, NOT_ACTIVE);
      assert.equal(emu.mutations.length, 1, "only Ada's successful connection");
    });

    it("refuses an MSA owner whose address is a member's UPN", async () => {
      assertMicrosoftError(
        await connect(TENANT_ID, "pat-jamal"),
        400,
        "MsaIdentityConflictException",
        "jamalhartnett@fabrikam.com",
      );
      assert.equal(emu.world.tenantId, null);
    });

    it("refuses a caller who is not the owner, an unknown tenant, and a connected organization", async () => {
      emu.world = world((w) => (w.administrators = ["ada.lovelace@fabrikam.com"]));
      assertMicrosoftError(
        await connect(TENANT_ID, "pat-ada"),
        403,
        "AccessCheckException",
        "not the owner",
      );
      const other = deterministicGuid("another tenant");
      assertMicrosoftError(
        await connect(other, "pat-jamal"),
        404,
        "TenantNotFoundException",
        other,
      );
      emu.world = world((w) => (w.tenantId = other));
      assertMicrosoftError(
        await connect(TENANT_ID, "pat-jamal"),
        400,
        "OrganizationAlreadyLinkedToTenantException",
        "already connected",
      );
      assertMicrosoftError(
        await patch(ORGANIZATION, "/Owner", TENANT_ID, "pat-jamal"),
        400,
        "InvalidArgumentValueException",
        '"/TenantId"',
      );
      assert.deepEqual(emu.mutations, []);
    });

    it("disconnects as Microsoft documents it: an MSA owner, an MSA caller who is a PCA and Global Administrator", async () => {
      const globalAdmin = (w: World): void => {
        w.tenantId = TENANT_ID;
        w.tenant.users.push({
          userPrincipalName: "jamalhartnett_fabrikam.com#EXT#@fabrikam.onmicrosoft.com",
          mail: "jamalhartnett@fabrikam.com",
          userType: "Guest",
          globalAdministrator: true,
        });
      };
      emu.world = world((w) => (w.tenantId = TENANT_ID));
      assertMicrosoftError(
        await connect(ZERO_GUID, "pat-jamal"),
        403,
        "AccessCheckException",
        "Global Administrator",
      );
      emu.world = world((w) => {
        globalAdmin(w);
        w.administrators = ["Sam.Taylor@Fabrikam.com"];
        w.users[3] = { ...w.users[3], origin: "aad" };
      });
      assertMicrosoftError(
        await connect(ZERO_GUID, "pat-sam"),
        403,
        "AccessCheckException",
        "Microsoft Entra users can't disconnect organizations",
      );
      emu.world = world((w) => {
        globalAdmin(w);
        w.owner = "Sam.Taylor@Fabrikam.com";
        w.users[3] = { ...w.users[3], origin: "aad" };
        w.administrators = ["jamalhartnett@fabrikam.com"];
      });
      assertMicrosoftError(
        await connect(ZERO_GUID, "pat-jamal"),
        403,
        "AccessCheckException",
        "change the owner to a Microsoft account first",
      );
      emu.world = world(globalAdmin);
      const answer = await connect(ZERO_GUID, "pat-jamal");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(emu.world.tenantId, null);
      assertMicrosoftError(
        await connect(ZERO_GUID, "pat-jamal"),
        400,
        "OrganizationNotLinkedToTenantException",
        "not connected",
      );
    });

    it("disconnects with the all-zero GUID, behaviour disconnect ownerOnly: owner only, connected only", async () => {
      emu.world = world((w) => (w.behaviour = { disconnect: "ownerOnly" }));
      assertMicrosoftError(
        await connect(ZERO_GUID, "pat-jamal"),
        400,
        "OrganizationNotLinkedToTenantException",
        "not connected",
      );
      emu.world = world((w) => {
        w.tenantId = TENANT_ID;
        w.behaviour = { disconnect: "ownerOnly" };
      });
      assertMicrosoftError(await connect(ZERO_GUID, "pat-sam"), 403, "AccessCheckException");
      const answer = await connect(ZERO_GUID, "pat-jamal");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.tenantId, ZERO_GUID);
      assert.equal(emu.world.tenantId, null);
      const head = await call("HEAD", "/fabrikam", { auth: false });
      assert.equal(head.headers.get("x-vss-resourcetenant"), ZERO_GUID);
      assert.deepEqual(emu.mutations, [
        { kind: "tenant", value: ZERO_GUID, by: "jamalhartnett@fabrikam.com" },
      ]);
    });

    it("runs the temporary-owner path end to end and logs each change once", async () => {
      const added = await call("POST", "/fabrikam/_apis/userentitlements?api-version=7.1", {
        headers: { ...as("pat-jamal"), "Content-Type": "application/json" },
        body: JSON.stringify({
          accessLevel: { licensingSource: "account", accountLicenseType: "express" },
          user: { principalName: TEMP, subjectKind: "user" },
        }),
      });
      assert.equal(added.body.isSuccess, true);
      // Invited as a B2B *member* (a guest cannot connect), not redeemed yet.
      emu.addTenantUser({
        userPrincipalName: TEMP_GUEST_UPN,
        mail: TEMP,
        userType: "Member",
        externalUserState: "PendingAcceptance",
      });
      assertMicrosoftError(
        await changeOwner(TEMP, "pat-jamal"),
        400,
        "OrganizationOwnerNotActiveException",
      );
      emu.signIn(TEMP);
      assert.equal((await changeOwner(TEMP, "pat-jamal")).status, 200);
      assert.equal((await connect(TENANT_ID, "pat-temp")).body.message, NOT_ACTIVE);
      emu.redeem(TEMP);
      assert.equal((await connect(TENANT_ID, "pat-temp")).status, 200);
      assert.equal((await changeOwner("jamalhartnett@fabrikam.com", "pat-temp")).status, 200);
      const removed = await call(
        "DELETE",
        `/fabrikam/_apis/userentitlements/${defaultUserId(TEMP)}?api-version=7.1`,
        { headers: as("pat-jamal") },
      );
      assert.equal(removed.status, 200);
      assert.deepEqual(
        emu.world.administrators,
        ["jamalhartnett@fabrikam.com"],
        "the removed temporary owner left the administrators",
      );
      emu.removeTenantUser(TEMP);
      assert.ok(!emu.world.tenant.users.some((t) => t.mail === TEMP));
      assert.deepEqual(emu.mutations, [
        { kind: "addUser", value: TEMP, by: "jamalhartnett@fabrikam.com" },
        { kind: "owner", value: TEMP, by: "jamalhartnett@fabrikam.com" },
        { kind: "tenant", value: TENANT_ID, by: TEMP },
        { kind: "owner", value: "jamalhartnett@fabrikam.com", by: TEMP },
        { kind: "removeUser", value: TEMP, by: "jamalhartnett@fabrikam.com" },
      ]);
      assert.equal(emu.world.owner, "jamalhartnett@fabrikam.com");
      assert.equal(emu.world.tenantId, TENANT_ID);
      assert.doesNotThrow(() => validateWorld(emu.world));
    });

    it("lets a PATCH fault on Organizations/Me hit only the connect call", async () => {
      emu.world = world((w) => (w.owner = "ada.lovelace@fabrikam.com"));
      emu.injectFault({ method: "PATCH", path: "Organizations/Me", status: 503, times: Infinity });
      assert.equal((await get(COLLECTION, { headers: as("pat-ada") })).status, 200);
      assert.equal((await changeOwner("ada.lovelace@fabrikam.com", "pat-ada")).status, 200);
      assertMicrosoftError(await connect(TENANT_ID, "pat-ada"), 503, "VssServiceException");
      assert.equal(emu.world.tenantId, null, "a faulted connect changes nothing");
      emu.clearFaults();
      assert.equal((await connect(TENANT_ID, "pat-ada")).status, 200);
      assert.deepEqual(
        emu.mutations.map((m) => m.kind),
        ["owner", "tenant"],
      );
    });
  });

  describe("identity binding on connect and user mapping", () => {
    const ORGANIZATION = "/fabrikam/_apis/Organization/Organizations/Me?api-version=5.0-preview.1";
    const COLLECTION = "/fabrikam/_apis/Organization/Collections/Me?api-version=7.1-preview.1";
    const NOT_FOUND = "GraphSubjectNotFoundException";
    const BAD_BODY = "GraphBadRequestException";
    const tokens = {
      "pat-ada": "ada.lovelace@fabrikam.com",
      "pat-sam": "Sam.Taylor@Fabrikam.com",
      "pat-jamal": "jamalhartnett@fabrikam.com",
      "pat-guest": "guest@contoso.com",
      "pat-khan": "jamal@outlook.com",
    };
    type Token = keyof typeof tokens;
    const as = (token: Token): Record<string, string> => ({
      Authorization: `Basic ${Buffer.from(`:${token}`).toString("base64")}`,
    });
    const objectId = (upn: string): string => defaultObjectId(TENANT_ID, upn);
    /** GET as Ada: the world's tokens refuse the suite's default PAT. */
    const read = (path: string, token: Token = "pat-ada"): Promise<Answer> =>
      get(path, { headers: as(token) });
    const GUEST_UPN = "guest_contoso.com#EXT#@fabrikam.onmicrosoft.com";

    /**
     * Ada owns the organization: she may connect it (a tenant member by mail, whose MSA address is
     * not a UPN). Sam and Jamal Khan administer it, so references to them can follow. This suite
     * binds by mail too (behaviour connectBinding "upnOrMail"), so that Ada is bound when she
     * connects; the default, by sign-in address only, has its own tests.
     */
    function world(edit: (w: World) => void = () => undefined): World {
      const w = clone(fixture);
      w.owner = "ada.lovelace@fabrikam.com";
      w.caller = "ada.lovelace@fabrikam.com";
      w.administrators = ["Sam.Taylor@Fabrikam.com", "jamal@outlook.com"];
      w.tokens = { ...tokens };
      w.behaviour = { connectBinding: "upnOrMail", disconnect: "ownerOnly" };
      edit(w);
      return w;
    }
    async function connect(
      tenantId: string = TENANT_ID,
      token: Token = "pat-ada",
    ): Promise<Answer> {
      const answer = await call("PATCH", ORGANIZATION, {
        headers: { ...as(token), "Content-Type": "application/json-patch+json" },
        body: JSON.stringify([{ from: "", op: 2, path: "/TenantId", value: tenantId }]),
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer;
    }
    function mapUser(
      descriptor: string,
      body: unknown,
      token: Token = "pat-ada",
      contentType = "application/json",
    ): Promise<Answer> {
      return call("PATCH", `/fabrikam/_apis/graph/users/${descriptor}?api-version=7.1-preview.1`, {
        headers: { ...as(token), "Content-Type": contentType },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    }
    /** The descriptor the emulator gives the user now named so. */
    const descriptor = (principalName: string): string => {
      const d = emulatorDescriptor(emu.world, principalName);
      assert.ok(d !== undefined, `no user ${principalName}`);
      return d;
    };
    /** A user by the name the fixture gave it (its id never changes). */
    const user = (originalName: string): WorldUser => {
      const id = defaultUserId(originalName);
      const found = emu.world.users.find((u) => (u.id ?? defaultUserId(u.principalName)) === id);
      assert.ok(found !== undefined, `no user ${originalName}`);
      return found;
    };
    const entitlement = async (originalName: string): Promise<Json> => {
      const answer = await read(
        `/fabrikam/_apis/userentitlements/${defaultUserId(originalName)}?api-version=7.1`,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body;
    };
    /** Every graph user of the given subject types, through all pages. */
    async function graphUsers(subjectTypes: string): Promise<Json[]> {
      const all: Json[] = [];
      let token: string | null = null;
      do {
        const query: string =
          token === null ? "" : `&continuationToken=${encodeURIComponent(token)}`;
        const answer = await read(
          `/fabrikam/_apis/graph/users?subjectTypes=${subjectTypes}&api-version=7.1-preview.1${query}`,
        );
        all.push(...(answer.body.value as Json[]));
        token = answer.headers.get("x-ms-continuationtoken");
      } while (token !== null);
      return all;
    }

    beforeEach(() => {
      emu.world = world();
    });

    it("binds matching users on connect, leaves the others msa, and references follow", async () => {
      emu.world = world((w) => {
        // The guest is found only through the address inside its UPN.
        w.tenant.users[2].mail = null;
        // A stale guest with Ada's address: the member identity wins.
        w.tenant.users.push({
          userPrincipalName: "ada.lovelace_fabrikam.com#EXT#@fabrikam.onmicrosoft.com",
          mail: "ada.lovelace@fabrikam.com",
          userType: "Guest",
        });
      });
      const adaMsa = descriptor("ada.lovelace@fabrikam.com");
      await connect();

      const expected: Array<[string, string, string, string | undefined]> = [
        // fixture name, principalName now, mailAddress now, bound object id
        [
          "jamalhartnett@fabrikam.com",
          "jamalhartnett@fabrikam.com",
          "jamalhartnett@fabrikam.com",
          objectId("jamalhartnett@fabrikam.com"),
        ],
        [
          "Sam.Taylor@Fabrikam.com",
          "sam.taylor@fabrikam.com",
          "sam.taylor@fabrikam.com",
          objectId("sam.taylor@fabrikam.com"),
        ],
        [
          "ada.lovelace@fabrikam.com",
          "alovelace@fabrikam.com",
          "ada.lovelace@fabrikam.com",
          objectId("alovelace@fabrikam.com"),
        ],
        ["guest@contoso.com", "guest@contoso.com", "guest@contoso.com", objectId(GUEST_UPN)],
        ["partner@othercompany.com", "partner@othercompany.com", "", undefined],
        ["dev.someone@gmail.com", "dev.someone@gmail.com", "", undefined],
        ["jamal@outlook.com", "jamal@outlook.com", "", undefined],
        ["leaver@othercompany.com", "leaver@othercompany.com", "", undefined],
        ["olduser@fabrikam.com", "olduser@fabrikam.com", "", undefined],
      ];
      for (const [original, principalName, mailAddress, originId] of expected) {
        const u = user(original);
        assert.equal(u.principalName, principalName, original);
        assert.equal(u.origin, originId === undefined ? "msa" : "aad", original);
        assert.equal(u.originId, originId, original);
        const e = await entitlement(original);
        assert.equal(e.id, defaultUserId(original), "the storage key never changes");
        const graph = e.user as Json;
        assert.equal(graph.principalName, principalName);
        if (originId === undefined) {
          assert.equal(graph.domain, "Windows Live ID");
          assert.match(String(graph.descriptor), /^msa\./);
          continue;
        }
        assert.equal(graph.origin, "aad");
        assert.equal(graph.originId, originId);
        assert.equal(graph.mailAddress, mailAddress);
        assert.equal(graph.domain, TENANT_ID);
        assert.match(String(graph.descriptor), /^aad\.[A-Za-z0-9_-]+$/);
        const byDescriptor = await read(
          `/fabrikam/_apis/graph/users/${String(graph.descriptor)}?api-version=7.1-preview.1`,
        );
        assert.deepEqual(byDescriptor.body, graph, "GET by the new descriptor");
      }
      assert.equal(user("guest@contoso.com").displayName, "Gus Guest");
      assertMicrosoftError(
        await read(`/fabrikam/_apis/graph/users/${adaMsa}?api-version=7.1-preview.1`),
        404,
        NOT_FOUND,
        adaMsa,
      );

      // The same people keep their roles, and their tokens work on under the new names.
      assert.equal(emu.world.owner, "alovelace@fabrikam.com");
      assert.equal(emu.world.caller, "alovelace@fabrikam.com");
      assert.deepEqual(emu.world.administrators, ["sam.taylor@fabrikam.com", "jamal@outlook.com"]);
      assert.deepEqual(emu.world.tokens, {
        ...tokens,
        "pat-ada": "alovelace@fabrikam.com",
        "pat-sam": "sam.taylor@fabrikam.com",
      });
      const me = await read("/_apis/profile/profiles/me?api-version=7.1-preview.3");
      assert.equal(me.body.emailAddress, "alovelace@fabrikam.com");
      assert.equal(me.body.id, defaultUserId("ada.lovelace@fabrikam.com"));
      assert.equal((await read(COLLECTION)).body.owner, defaultUserId("ada.lovelace@fabrikam.com"));
      const ownerChange = await call("PATCH", COLLECTION, {
        headers: { ...as("pat-sam"), "Content-Type": "application/json-patch+json" },
        body: JSON.stringify([
          { from: "", op: 2, path: "/Owner", value: defaultUserId("jamalhartnett@fabrikam.com") },
        ]),
      });
      assert.equal(ownerChange.status, 200, "Sam is still a Project Collection Administrator");

      // subjectTypes filters by origin.
      assert.deepEqual(
        (await graphUsers("msa")).map((u) => u.principalName),
        [
          "partner@othercompany.com",
          "dev.someone@gmail.com",
          "jamal@outlook.com",
          "leaver@othercompany.com",
          "olduser@fabrikam.com",
        ],
      );
      assert.deepEqual(
        (await graphUsers("aad")).map((u) => u.principalName),
        [
          "jamalhartnett@fabrikam.com",
          "sam.taylor@fabrikam.com",
          "guest@contoso.com",
          "alovelace@fabrikam.com",
        ],
      );
      assert.deepEqual(
        emu.mutations.map((m) => m.kind),
        ["tenant", "owner"],
        "bindings are not logged one by one",
      );
      const copy = validateWorld(emu.world);
      assert.equal(
        copy.users.find((u) => u.principalName === "alovelace@fabrikam.com")?.originId,
        objectId("alovelace@fabrikam.com"),
        "a valid world, whose copy keeps the binding",
      );

      // Disconnecting unbinds nobody.
      await connect(ZERO_GUID, "pat-jamal");
      assert.equal(user("ada.lovelace@fabrikam.com").origin, "aad");
      assert.equal(user("ada.lovelace@fabrikam.com").principalName, "alovelace@fabrikam.com");
    });

    it("maps a disconnected user by principalName: views and references follow", async () => {
      await connect();
      emu.resetMutations();
      const before = descriptor("jamal@outlook.com");
      const answer = await mapUser(before, { principalName: " JAMAL@fabrikam.com " });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.headers.get("location"), answer.body.url, "Created, at the user's URL");
      assert.equal(answer.body.principalName, "jamal@fabrikam.com");
      assert.equal(answer.body.mailAddress, "jamal@fabrikam.com");
      assert.equal(answer.body.origin, "aad");
      assert.equal(answer.body.originId, objectId("jamal@fabrikam.com"));
      assert.equal(answer.body.domain, TENANT_ID);
      assert.equal(answer.body.metaType, "member");
      assert.equal(answer.body.subjectKind, "user");
      assert.equal(answer.body.displayName, "Jamal Khan");
      assert.match(String(answer.body.descriptor), /^aad\./);
      assert.notEqual(answer.body.descriptor, before);

      const graph = await read(
        `/fabrikam/_apis/graph/users/${String(answer.body.descriptor)}?api-version=7.1-preview.1`,
      );
      assert.deepEqual(graph.body, answer.body, "the same shape as GET graph user");
      assert.deepEqual((await entitlement("jamal@outlook.com")).user, answer.body);
      const listed = await read(
        "/fabrikam/_apis/userentitlements?$filter=name eq 'jamal@fabrikam'&api-version=7.1",
      );
      assert.deepEqual(
        (listed.body.items as Json[]).map((e) => [e.id, e.user]),
        [[defaultUserId("jamal@outlook.com"), answer.body]],
      );
      assertMicrosoftError(
        await read(`/fabrikam/_apis/graph/users/${before}?api-version=7.1-preview.1`),
        404,
        NOT_FOUND,
      );

      assert.deepEqual(emu.world.administrators, ["sam.taylor@fabrikam.com", "jamal@fabrikam.com"]);
      assert.equal(emu.world.tokens?.["pat-khan"], "jamal@fabrikam.com");
      const me = await read("/_apis/profile/profiles/me?api-version=7.1-preview.3", "pat-khan");
      assert.equal(me.body.emailAddress, "jamal@fabrikam.com");
      assert.deepEqual(emu.mutations, [
        {
          kind: "mapUser",
          value: "jamal@outlook.com -> jamal@fabrikam.com",
          by: "alovelace@fabrikam.com",
        },
      ]);
      assert.doesNotThrow(() => validateWorld(emu.world));
    });

    it("maps by originId, in any case, a guest invited after the connection; or moves a bound user", async () => {
      await connect();
      emu.resetMutations();
      const partnerOid = deterministicGuid("partner guest");
      emu.addTenantUser({
        userPrincipalName: "partner_othercompany.com#EXT#@fabrikam.onmicrosoft.com",
        mail: "partner@othercompany.com",
        userType: "Guest",
        displayName: "Pat Partner (guest)",
        objectId: partnerOid,
      });
      const partner = await mapUser(descriptor("partner@othercompany.com"), {
        originId: partnerOid.toUpperCase(),
      });
      assert.equal(partner.status, 201, JSON.stringify(partner.body));
      assert.equal(partner.body.principalName, "partner@othercompany.com");
      assert.equal(partner.body.originId, partnerOid);
      assert.equal(partner.body.metaType, "guest");
      assert.equal(partner.body.displayName, "Pat Partner", "the fixture's name stays");

      // Transfer: Sam, bound at the connection, moves to a new identity; his old one is free again.
      const newSam: TenantUser = {
        userPrincipalName: "staylor@fabrikam.com",
        mail: "sam.taylor@fabrikam.com",
        userType: "Member",
      };
      emu.addTenantUser(newSam);
      const moved = await mapUser(descriptor("sam.taylor@fabrikam.com"), {
        originId: objectId("staylor@fabrikam.com"),
      });
      assert.equal(moved.status, 201, JSON.stringify(moved.body));
      assert.equal(moved.body.principalName, "staylor@fabrikam.com");
      assert.equal(user("Sam.Taylor@Fabrikam.com").originId, objectId("staylor@fabrikam.com"));
      assert.deepEqual(emu.world.administrators, ["staylor@fabrikam.com", "jamal@outlook.com"]);
      assert.equal(emu.world.tokens?.["pat-sam"], "staylor@fabrikam.com");
      assert.deepEqual(
        emu.mutations.map((m) => [m.kind, m.value]),
        [
          ["mapUser", "partner@othercompany.com -> partner@othercompany.com"],
          ["mapUser", "sam.taylor@fabrikam.com -> staylor@fabrikam.com"],
        ],
      );
      assert.equal((await graphUsers("msa")).length, 4);
      assert.equal((await graphUsers("aad")).length, 5);
    });

    it("refuses a caller who is not a Project Collection Administrator (403)", async () => {
      await connect();
      emu.resetMutations();
      const target = descriptor("jamal@outlook.com");
      assertMicrosoftError(
        await mapUser(target, { principalName: "jamal@fabrikam.com" }, "pat-guest"),
        403,
        "AccessCheckException",
        "guest@contoso.com",
      );
      assert.equal(user("jamal@outlook.com").origin, "msa");
      assert.deepEqual(emu.mutations, []);
    });

    it("refuses a mapping while the organization is not connected (400)", async () => {
      assertMicrosoftError(
        await mapUser(descriptor("jamal@outlook.com"), { principalName: "jamal@fabrikam.com" }),
        400,
        "OrganizationNotLinkedToTenantException",
        "is not connected to a Microsoft Entra tenant",
      );
      assert.deepEqual(emu.mutations, []);
    });

    it("refuses malformed bodies with 400 naming the problem, other media types with 415", async () => {
      await connect();
      emu.resetMutations();
      const target = descriptor("jamal@outlook.com");
      const cases: Array<[unknown, string]> = [
        ["{ nope", "not valid JSON"],
        ["[]", "must be a GraphUserUpdateContext object"],
        ['"jamal@fabrikam.com"', "must be a GraphUserUpdateContext object"],
        [{}, "sets neither principalName nor originId"],
        [{ mailAddress: "jamal@fabrikam.com" }, "sets neither principalName nor originId"],
        [{ principalName: null, originId: null }, "sets neither principalName nor originId"],
        [
          { principalName: "jamal@fabrikam.com", originId: objectId("jamal@fabrikam.com") },
          "sets both principalName and originId",
        ],
        [{ principalName: 42 }, "principalName is not valid: expected a string"],
        [{ principalName: "" }, "is not a valid principal name"],
        [{ principalName: "jamal" }, "'jamal' of principalName is not a valid principal name"],
        [{ originId: 42 }, "originId is not valid: expected the Entra object id"],
        [{ originId: "not-a-guid" }, "'not-a-guid' of originId: expected a GUID"],
      ];
      for (const [body, message] of cases) {
        assertMicrosoftError(await mapUser(target, body), 400, BAD_BODY, message);
      }
      assertMicrosoftError(
        await mapUser(target, { principalName: "jamal@fabrikam.com" }, "pat-ada", "text/plain"),
        415,
        "VssRequestContentTypeNotSupportedException",
        "application/json",
      );
      assert.equal(user("jamal@outlook.com").origin, "msa");
      assert.deepEqual(emu.mutations, []);
    });

    it("answers 404 for an unknown descriptor, including a user's msa descriptor once bound", async () => {
      const adaMsa = descriptor("ada.lovelace@fabrikam.com");
      await connect();
      const adaAad = descriptor("alovelace@fabrikam.com");
      assert.notEqual(adaAad, adaMsa);
      for (const unknown of [adaMsa, "msa.bm9ib2R5", "not-a-descriptor", `${adaAad}x`]) {
        assertMicrosoftError(
          await mapUser(unknown, { principalName: "alovelace@fabrikam.com" }),
          404,
          NOT_FOUND,
          `'${unknown}'`,
        );
      }
    });

    it("answers 400 with a bare string for a target identity the tenant does not have", async () => {
      await connect();
      const target = descriptor("jamal@outlook.com");
      const byName = await mapUser(target, { principalName: "nobody@fabrikam.com" });
      assert.equal(byName.status, 400);
      assert.match(byName.headers.get("content-type") ?? "", /^application\/json/);
      const text = JSON.parse(byName.text) as unknown;
      assert.equal(typeof text, "string", "the service answers a bare JSON string");
      assert.match(
        String(text),
        /^Cannot materialize the graph subject with principalName 'nobody@fabrikam\.com'/,
      );
      const unknown = deterministicGuid("no such object");
      const byId = await mapUser(target, { originId: unknown });
      assert.equal(byId.status, 400);
      assert.match(byId.text, new RegExp(`originId '${unknown}'`));
      assert.equal(user("jamal@outlook.com").origin, "msa");
    });

    it("answers 404 IdentityNotFoundException for an unknown target with behaviour mappingUnknownTarget 404", async () => {
      emu.world = world((w) => (w.behaviour = { ...w.behaviour, mappingUnknownTarget: 404 }));
      await connect();
      const target = descriptor("jamal@outlook.com");
      assertMicrosoftError(
        await mapUser(target, { principalName: "nobody@fabrikam.com" }),
        404,
        "IdentityNotFoundException",
        "'nobody@fabrikam.com'",
      );
      const unknown = deterministicGuid("no such object");
      assertMicrosoftError(
        await mapUser(target, { originId: unknown }),
        404,
        "IdentityNotFoundException",
        `'${unknown}'`,
      );
      // Connected to another tenant, whose identities the emulator does not model.
      const other = deterministicGuid("another tenant");
      emu.world = world((w) => {
        w.tenantId = other;
        w.behaviour = { ...w.behaviour, mappingUnknownTarget: 404 };
      });
      assertMicrosoftError(
        await mapUser(descriptor("jamal@outlook.com"), { principalName: "jamal@fabrikam.com" }),
        404,
        "IdentityNotFoundException",
        other,
      );
      assert.deepEqual(emu.mutations, [
        { kind: "tenant", value: TENANT_ID, by: "ada.lovelace@fabrikam.com" },
      ]);
    });

    it("scrubs the user who holds the target identity, then transfers; never the owner", async () => {
      await connect();
      emu.resetMutations();
      const khan = descriptor("jamal@outlook.com");
      const answer = await mapUser(khan, { principalName: "Sam.Taylor@fabrikam.com" });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.principalName, "sam.taylor@fabrikam.com");
      assert.equal(user("jamal@outlook.com").originId, objectId("sam.taylor@fabrikam.com"));
      assert.ok(
        !emu.world.users.some((u) => u.displayName === "Sam Taylor"),
        "the holder's entitlement is deleted",
      );
      assert.deepEqual(
        emu.world.administrators,
        ["sam.taylor@fabrikam.com"],
        "Sam left the administrators; Khan, now on Sam's identity, is named so",
      );
      assert.deepEqual(
        emu.mutations.map((m) => [m.kind, m.value]),
        [
          ["scrubUser", "sam.taylor@fabrikam.com"],
          ["mapUser", "jamal@outlook.com -> sam.taylor@fabrikam.com"],
        ],
      );
      assert.doesNotThrow(() => validateWorld(emu.world));

      // The owner is never scrubbed.
      const refused = await mapUser(descriptor("dev.someone@gmail.com"), {
        originId: objectId("alovelace@fabrikam.com"),
      });
      assertMicrosoftError(
        refused,
        400,
        "GraphAccountNameCollisionRepairFailedException",
        "owns the organization",
      );
      assert.equal(emu.world.owner, "alovelace@fabrikam.com");
    });

    it("refuses a held identity with behaviour mappingHolder refuse, and an Entra user's sign-in name always", async () => {
      emu.world = world((w) => (w.behaviour = { ...w.behaviour, mappingHolder: "refuse" }));
      await connect();
      emu.resetMutations();
      const khan = descriptor("jamal@outlook.com");
      for (const body of [
        { principalName: "Sam.Taylor@fabrikam.com" },
        { originId: objectId("sam.taylor@fabrikam.com") },
      ]) {
        const refused = await mapUser(khan, body);
        assertMicrosoftError(
          refused,
          400,
          "InvalidTransferIdentityRightsRequestException",
          "has active or inactive memberships in the account",
        );
        assert.ok(String(refused.body.message).includes("'sam.taylor@fabrikam.com' is bound to"));
      }
      // A new member identity whose sign-in name a bound (aad) user shows: refused whatever the switch.
      emu.addTenantUser({ userPrincipalName: "guest@contoso.com", userType: "Member" });
      assertMicrosoftError(
        await mapUser(descriptor("dev.someone@gmail.com"), { principalName: "guest@contoso.com" }),
        409,
        "InvalidTransferIdentityRightsRequestException",
        "'guest@contoso.com' has the sign-in name of that identity",
      );
      assert.deepEqual(emu.mutations, []);
      // A Microsoft account sharing the sign-in name is another identity: the mapping goes ahead,
      // and the organization then has an msa and an aad user of one name.
      emu.addTenantUser({ userPrincipalName: "olduser@fabrikam.com", userType: "Member" });
      const shared = await mapUser(descriptor("dev.someone@gmail.com"), {
        principalName: "olduser@fabrikam.com",
      });
      assert.equal(shared.status, 201, JSON.stringify(shared.body));
      assert.deepEqual(
        emu.world.users
          .filter((u) => u.principalName === "olduser@fabrikam.com")
          .map((u) => u.origin)
          .sort(),
        ["aad", "msa"],
      );
      assert.doesNotThrow(() => validateWorld(emu.world));
    });

    it("refuses a mapping onto the identity the user already holds: Cannot transfer identity to itself", async () => {
      await connect();
      emu.resetMutations();
      const first = await mapUser(descriptor("jamal@outlook.com"), {
        principalName: "jamal@fabrikam.com",
      });
      assert.equal(first.status, 201);
      const snapshot = structuredClone(emu.world);
      assertMicrosoftError(
        await mapUser(String(first.body.descriptor), { originId: objectId("jamal@fabrikam.com") }),
        400,
        BAD_BODY,
        "Cannot transfer identity to itself",
      );
      assert.deepEqual(emu.world, snapshot, "nothing changed");
      assert.equal(emu.mutations.length, 1);
    });

    it("answers 200 to a repeated mapping with behaviour mappingToItself accept and mappingStatus 200, and logs it", async () => {
      emu.world = world(
        (w) => (w.behaviour = { ...w.behaviour, mappingToItself: "accept", mappingStatus: 200 }),
      );
      await connect();
      emu.resetMutations();
      const first = await mapUser(descriptor("jamal@outlook.com"), {
        principalName: "jamal@fabrikam.com",
      });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("location"), null, "no Location on a 200");
      const snapshot = structuredClone(emu.world);
      const again = await mapUser(String(first.body.descriptor), {
        originId: objectId("jamal@fabrikam.com"),
      });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      // Sam was bound by the connection.
      const sam = await mapUser(descriptor("sam.taylor@fabrikam.com"), {
        principalName: "sam.taylor@fabrikam.com",
      });
      assert.equal(sam.status, 200);
      assert.deepEqual(emu.world, snapshot, "nothing changed");
      assert.deepEqual(emu.mutations, [
        {
          kind: "mapUser",
          value: "jamal@outlook.com -> jamal@fabrikam.com",
          by: "alovelace@fabrikam.com",
        },
        {
          kind: "mapUser",
          value: "jamal@fabrikam.com -> jamal@fabrikam.com",
          by: "alovelace@fabrikam.com",
        },
        {
          kind: "mapUser",
          value: "sam.taylor@fabrikam.com -> sam.taylor@fabrikam.com",
          by: "alovelace@fabrikam.com",
        },
      ]);
    });

    it("binds 2,500 of 5,000 users on connect and maps 1,000 more in a few seconds", async () => {
      const users: WorldUser[] = [
        {
          principalName: "owner.person@fabrikam.com",
          origin: "msa",
          lastAccessedDate: "2025-01-01T00:00:00Z",
        },
      ];
      const tenantUsers: TenantUser[] = [
        {
          userPrincipalName: "operson@fabrikam.com",
          mail: "owner.person@fabrikam.com",
          userType: "Member",
        },
      ];
      for (let i = 1; i < 5000; i++) {
        if (i <= 2500) {
          users.push({ principalName: `User${i}@Fabrikam.com`, origin: "msa" });
          tenantUsers.push({ userPrincipalName: `user${i}@fabrikam.com`, userType: "Member" });
        } else {
          users.push({ principalName: `person${i}@example.com`, origin: "msa" });
          if (i <= 3500) {
            tenantUsers.push({ userPrincipalName: `mapped${i}@fabrikam.com`, userType: "Member" });
          }
        }
      }
      const big = await startEmulator({
        pageSize: 5000,
        world: {
          ...clone(fixture),
          owner: "owner.person@fabrikam.com",
          caller: "owner.person@fabrikam.com",
          users,
          tenant: { ...fixture.tenant, users: tenantUsers },
          // The owner matches by mail only: bound when connect binds by mail too.
          behaviour: { connectBinding: "upnOrMail" },
        },
      });
      try {
        const send = (
          method: string,
          path: string,
          body: unknown,
          type: string,
        ): Promise<Response> =>
          fetch(`${big.url}${path}`, {
            method,
            headers: { Authorization: BASIC, "Content-Type": type },
            body: JSON.stringify(body),
          });
        const started = Date.now();
        const connected = await send(
          "PATCH",
          ORGANIZATION,
          [{ from: "", op: 2, path: "/TenantId", value: TENANT_ID }],
          "application/json-patch+json",
        );
        assert.equal(connected.status, 200, await connected.text());
        const connectMs = Date.now() - started;
        const list = await fetch(
          `${big.url}/fabrikam/_apis/graph/users?subjectTypes=msa&api-version=7.1-preview.1`,
          { headers: { Authorization: BASIC } },
        );
        const msa = ((await list.json()) as { value: Json[] }).value;
        assert.equal(msa.length, 2499, "the owner and users 1-2500 are bound");

        const mappingStarted = Date.now();
        for (const u of msa.slice(0, 1000)) {
          const i = /^person(\d+)@/.exec(String(u.principalName))?.[1];
          const answer = await send(
            "PATCH",
            `/fabrikam/_apis/graph/users/${String(u.descriptor)}?api-version=7.1-preview.1`,
            { principalName: `mapped${i}@fabrikam.com` },
            "application/json",
          );
          const text = await answer.text();
          assert.equal(answer.status, 201, text);
        }
        const mappingMs = Date.now() - mappingStarted;
        assert.equal(big.world.users.filter((u) => u.origin === "aad").length, 3501);
        assert.equal(big.mutations.filter((m) => m.kind === "mapUser").length, 1000);
        // Generous bounds: they catch an O(n²) regression, not a slow machine.
        assert.ok(connectMs < 5_000, `connect took ${connectMs} ms`);
        assert.ok(mappingMs < 15_000, `1,000 mappings took ${mappingMs} ms`);
      } finally {
        await big.close();
      }
    }).timeout(60_000);
  });

  describe("billing setup and Azure Resource Manager's subscription challenge", () => {
    const organizationId = (): string => normalizeWorld(fixture).organizationId;
    const billingPath = (id: string = organizationId()): string =>
      `/${id}/_apis/AzComm/BillingSetup?api-version=7.1-preview.1`;
    const armPath = (id: string = SUBSCRIPTION_ID): string =>
      `/subscriptions/${id}?api-version=2022-12-01`;
    const withBilling = (status?: string): World => ({
      ...clone(fixture),
      billing: {
        subscriptionId: SUBSCRIPTION_ID,
        subscriptionTenantId: OTHER_TENANT,
        ...(status ? { status } : {}),
      },
    });

    it("answers the billing setup by the organization's GUID: not set up, then set up", async () => {
      const none = await get(billingPath());
      assert.equal(none.status, 200);
      assert.equal(none.body.subscriptionId, null);
      assert.equal(none.body.subscriptionStatus, null);
      assert.equal(none.body.currentOrganizationName, "fabrikam");
      assert.equal(typeof none.body.isAssignmentBillingEnabled, "boolean");

      emu.world = withBilling();
      const set = await get(
        billingPath().replace(organizationId(), organizationId().toUpperCase()),
      );
      assert.equal(set.status, 200);
      assert.equal(set.body.subscriptionId, SUBSCRIPTION_ID);
      assert.equal(set.body.subscriptionStatus, "active");
      assert.equal(set.body.isEnterpriseBillingEnabled, false);
      assert.equal(set.body.isAssignmentBillingEnabled, true);
      emu.world = withBilling("disabled");
      assert.equal((await get(billingPath())).body.subscriptionStatus, "disabled");
      assert.deepEqual(
        emu.requests.map((r) => [r.path.toLowerCase(), r.auth]),
        Array(3).fill([`/${organizationId()}/_apis/azcomm/billingsetup`, "basic"]),
      );
    });

    it("needs a credential; 404 for another organization's id", async () => {
      assertMicrosoftError(
        await get(billingPath(), { auth: false }),
        401,
        "UnauthorizedRequestException",
      );
      assert.equal(
        (await get(billingPath().split("?")[0])).status,
        200,
        "a GET without api-version is served",
      );
      assertMicrosoftError(
        await get(billingPath(deterministicGuid("another organization"))),
        404,
        "HostDoesNotExistException",
      );
    });

    it("challenges an unauthenticated GET /subscriptions/{id} with the subscription's tenant", async () => {
      emu.world = withBilling();
      const challenge = await get(armPath(), { auth: false });
      assert.equal(challenge.status, 401);
      assert.equal(
        challenge.headers.get("www-authenticate"),
        `Bearer authorization_uri="https://login.windows.net/${OTHER_TENANT}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
      );
      assert.deepEqual(challenge.body, {
        error: {
          code: "AuthenticationFailed",
          message: "Authentication failed. The 'Authorization' header is missing.",
        },
      });
      // ARM takes no Azure DevOps PAT: Basic is refused with the same challenge.
      const basic = await get(armPath());
      assert.equal(basic.status, 401);
      assert.match(basic.headers.get("www-authenticate") ?? "", new RegExp(OTHER_TENANT));
      assert.deepEqual(
        emu.requests.map((r) => [r.path, r.status, r.auth]),
        [
          [`/subscriptions/${SUBSCRIPTION_ID}`, 401, "none"],
          [`/subscriptions/${SUBSCRIPTION_ID}`, 401, "basic"],
        ],
      );
    });

    it("answers the subscription, tenantId included, to a Bearer (ARM) token", async () => {
      emu.world = withBilling();
      const answer = await get(armPath(), { headers: { Authorization: "Bearer arm-token" } });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.subscriptionId, SUBSCRIPTION_ID);
      assert.equal(answer.body.tenantId, OTHER_TENANT);
      assert.equal(answer.body.state, "Enabled");
    });

    it("answers ARM's errors: no api-version, a malformed id, an unknown subscription", async () => {
      emu.world = withBilling();
      const noVersion = await get(`/subscriptions/${SUBSCRIPTION_ID}`, { auth: false });
      assert.equal(noVersion.status, 400);
      assert.equal((noVersion.body.error as Json).code, "MissingApiVersionParameter");
      const malformed = await get(armPath("not-a-guid"), { auth: false });
      assert.equal((malformed.body.error as Json).code, "InvalidSubscriptionId");
      const unknown = await get(armPath(deterministicGuid("other subscription")), {
        auth: false,
      });
      assert.equal(unknown.status, 404);
      assert.equal((unknown.body.error as Json).code, "SubscriptionNotFound");
      emu.world = clone(fixture);
      assert.equal(
        (await get(armPath(), { auth: false })).status,
        404,
        "no billing, no subscription",
      );
    });
  });

  describe("discovery and Microsoft's Node client", () => {
    it("answers resourceAreas and OPTIONS location tables without credentials", async () => {
      for (const [path, locationUrl] of [
        ["/_apis/resourceAreas", `${emu.url}/`],
        ["/fabrikam/_apis/resourceAreas", `${emu.url}/fabrikam/`],
      ]) {
        const areas = await get(path, { auth: false });
        assert.equal(areas.status, 200);
        assert.equal(areas.body.count, 4);
        const value = areas.body.value as Json[];
        assert.deepEqual(
          value.map((a) => [a.name, a.id]),
          [
            ["core", "79134c72-4a58-4b42-976c-04e7115f32bf"],
            ["profile", "8ccfef3d-2b87-4e99-8ccb-66e343d2daa8"],
            ["graph", "bb1e7ec9-e901-4b68-999a-de7012b920f8"],
            ["memberEntitlementManagement", "68ddce18-2501-45f1-a17b-7931a9922690"],
          ],
          "the x-ms-vss-resource-area-id of each spec",
        );
        assert.ok(
          value.every((a) => a.locationUrl === locationUrl),
          "every area on this one host",
        );
      }
      const location = await call("OPTIONS", "/fabrikam/_apis/Location", { auth: false });
      assert.equal(
        ((location.body.value as Json[])[0] as Json).id,
        "e81700f7-3be2-46de-8624-2eb35882fcaa",
      );
      const core = await call("OPTIONS", "/fabrikam/_apis/core", { auth: false });
      assert.equal(
        ((core.body.value as Json[])[0] as Json).routeTemplate,
        "_apis/{resource}/{*projectId}",
      );
      const profile = await call("OPTIONS", "/_apis/Profile", { auth: false });
      assert.equal(((profile.body.value as Json[])[0] as Json).resourceName, "profiles");
      assert.equal((await call("OPTIONS", "/fabrikam/_apis/nothing", { auth: false })).status, 404);
      assert.deepEqual(
        emu.requests.map((r) => r.auth),
        ["none", "none", "none", "none", "none", "none"],
      );
    });

    it("serves azure-devops-node-api's CoreApi and ProfileApi", async () => {
      const handler = azdev.getPersonalAccessTokenHandler(PAT);
      const core = await new azdev.WebApi(`${emu.url}/fabrikam`, handler).getCoreApi();
      const projects = await core.getProjects();
      assert.deepEqual(
        projects.map((p) => p.name),
        ["web", "legacy"],
      );
      const legacy = await core.getProject("legacy", true);
      assert.equal(legacy.capabilities?.versioncontrol?.sourceControlType, "Tfvc");
      const profiles = await new azdev.WebApi(emu.url, handler).getProfileApi();
      const me = await profiles.getProfile("me");
      assert.equal(me.id, defaultUserId("jamalhartnett@fabrikam.com"));
      assert.ok(me.timeStamp instanceof Date, "the client deserializes timeStamp");
      // The client's Profile type omits the top-level emailAddress the service sends.
      assert.equal((me as unknown as Json).emailAddress, "jamalhartnett@fabrikam.com");

      const seen = emu.requests.map((r: RecordedRequest) => `${r.method} ${r.path} ${r.status}`);
      assert.ok(seen.includes("GET /fabrikam/_apis/resourceAreas 200"), seen.join("\n"));
      assert.ok(seen.includes("OPTIONS /fabrikam/_apis/core 200"), seen.join("\n"));
      assert.ok(seen.includes("GET /fabrikam/_apis/projects/legacy 200"), seen.join("\n"));
      assert.ok(seen.includes("OPTIONS /_apis/Profile 200"), seen.join("\n"));
      assert.ok(seen.includes("GET /_apis/Profile/profiles/me 200"), seen.join("\n"));
    });
  });

  describe("fault injection", () => {
    it("throttles with 429, Retry-After and X-RateLimit-* once, then answers normally", async () => {
      emu.injectFault({ path: "/_apis/userentitlements", status: 429, retryAfter: 3 });
      const throttled = await get("/fabrikam/_apis/userentitlements?api-version=7.1");
      assertMicrosoftError(throttled, 429, "RequestBlockedException");
      assert.equal(throttled.headers.get("retry-after"), "3");
      for (const header of ["resource", "delay", "limit", "remaining", "reset"]) {
        assert.ok(throttled.headers.get(`x-ratelimit-${header}`), `X-RateLimit-${header}`);
      }
      const retried = await get("/fabrikam/_apis/userentitlements?api-version=7.1");
      assert.equal(retried.status, 200);
      assert.deepEqual(
        emu.requests.map((r) => r.status),
        [429, 200],
      );
    });

    it("fails a given number of times, only for the matching method", async () => {
      emu.injectFault({ method: "get", path: "/PROJECTS", status: 500, times: 2 });
      assert.equal(
        (await call("POST", "/fabrikam/_apis/projects?api-version=7.1")).status,
        404,
        "POST does not match",
      );
      assertMicrosoftError(
        await get("/fabrikam/_apis/projects?api-version=7.1"),
        500,
        "VssServiceException",
      );
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.1")).status, 500);
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.1")).status, 200);
    });

    it("delays an answer, then answers normally", async () => {
      emu.injectFault({ path: /\/projects$/, delayMs: 300 });
      const started = Date.now();
      const answer = await get("/fabrikam/_apis/projects?api-version=7.1");
      assert.ok(Date.now() - started >= 280, `took ${Date.now() - started} ms`);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.count, 2);
    });

    it("overrides the body with HTTP 200, e.g. a refused entitlement add", async () => {
      const refusal = {
        isSuccess: false,
        userEntitlement: null,
        operationResult: { isSuccess: false, errors: [{ key: "5000", value: "nope" }] },
      };
      emu.injectFault({ method: "POST", path: "userentitlements", body: refusal, times: Infinity });
      for (let i = 0; i < 3; i++) {
        const answer = await post("/fabrikam/_apis/userentitlements?api-version=7.1", {
          accessLevel: { licensingSource: "account", accountLicenseType: "express" },
          user: { principalName: `u${i}@example.com`, subjectKind: "user" },
        });
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, refusal);
      }
      assert.equal(emu.world.users.length, 9, "a faulted request never reaches the world");
      emu.clearFaults();
      const answer = await post("/fabrikam/_apis/userentitlements?api-version=7.1", {
        accessLevel: { licensingSource: "account", accountLicenseType: "express" },
        user: { principalName: "u9@example.com", subjectKind: "user" },
      });
      assert.equal(answer.body.isSuccess, true);
    });

    it("answers a raw text body with its content type, e.g. the HTML sign-in page on 203", async () => {
      const page =
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head></html>";
      emu.injectFault({ path: "/_apis/projects", status: 203, text: page });
      emu.injectFault({ path: "/_apis/projects", text: "plain", contentType: "text/plain" });
      const signIn = await fetch(`${emu.url}/fabrikam/_apis/projects?api-version=7.1`);
      assert.equal(signIn.status, 203);
      assert.equal(signIn.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(await signIn.text(), page);
      const plain = await fetch(`${emu.url}/fabrikam/_apis/projects?api-version=7.1`);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get("content-type"), "text/plain");
      assert.equal(await plain.text(), "plain");
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.1")).status, 200);
    });

    it("adds response headers, e.g. a redirect's Location", async () => {
      emu.injectFault({
        path: "/_apis/projects",
        status: 302,
        headers: { Location: "https://login.example/signin" },
      });
      const redirected = await fetch(`${emu.url}/fabrikam/_apis/projects?api-version=7.1`, {
        redirect: "manual",
      });
      assert.equal(redirected.status, 302);
      assert.equal(redirected.headers.get("location"), "https://login.example/signin");
    });

    it("refuses text with body, a content type without text, and headers that are not strings", () => {
      assert.throws(() => emu.injectFault({ path: "x", text: "a", body: {} }), /not both/);
      assert.throws(() => emu.injectFault({ path: "x", contentType: "text/html" }), /text body/);
      assert.throws(
        () =>
          emu.injectFault({ path: "x", headers: { A: 1 } as unknown as Record<string, string> }),
        /headers must be an object/,
      );
    });

    it("applies rules in order of injection and refuses invalid rules", async () => {
      emu.injectFault({ path: "projects", status: 503, retryAfter: 1 });
      emu.injectFault({ path: "projects", status: 500 });
      const first = await get("/fabrikam/_apis/projects?api-version=7.1");
      assert.equal(first.status, 503);
      assert.equal(first.headers.get("retry-after"), "1");
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.1")).status, 500);
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.1")).status, 200);
      assert.throws(() => emu.injectFault({ path: "x", times: 0 }), /times/);
      assert.throws(() => emu.injectFault({ path: "x", status: 42 }), /status/);
    });
  });

  describe("control endpoints over HTTP", () => {
    const control = (method: string, path: string, body?: unknown): Promise<Response> =>
      fetch(`${emu.url}/_emulator/${path}`, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it("injects, lists and clears faults; a regex rule as pathRegex", async () => {
      const created = await control("POST", "faults", {
        pathRegex: "/graph/users$",
        status: 429,
        retryAfter: 0,
        times: "Infinity",
      });
      assert.equal(created.status, 201);
      const listed = (await (await control("GET", "faults")).json()) as Json[];
      assert.deepEqual(
        listed.map((f) => [f.pathRegex, f.remaining]),
        [["\\/graph\\/users$", "Infinity"]],
      );
      assert.equal(
        (await get("/fabrikam/_apis/graph/users?api-version=7.1-preview.1")).status,
        429,
      );
      assert.equal(
        (await get("/fabrikam/_apis/graph/users?api-version=7.1-preview.1")).status,
        429,
      );
      assert.equal(
        (await control("GET", "world")).status,
        200,
        "control endpoints are never faulted",
      );
      assert.equal((await control("DELETE", "faults")).status, 204);
      assert.equal(
        (await get("/fabrikam/_apis/graph/users?api-version=7.1-preview.1")).status,
        200,
      );
      const bad = await control("POST", "faults", { status: 500 });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as Json).message as string, /path/);
    });

    it("injects a raw text fault with content type and headers over HTTP, and lists it", async () => {
      const created = await control("POST", "faults", {
        path: "/AzComm/BillingSetup",
        text: "<html>Sign In</html>",
        contentType: "text/html",
        headers: { "X-Test": "yes" },
      });
      assert.equal(created.status, 201);
      const [listed] = (await (await control("GET", "faults")).json()) as Json[];
      assert.deepEqual(
        [listed.text, listed.contentType, listed.headers],
        ["<html>Sign In</html>", "text/html", { "X-Test": "yes" }],
      );
      const organizationId = normalizeWorld(fixture).organizationId;
      const answer = await fetch(
        `${emu.url}/${organizationId}/_apis/AzComm/BillingSetup?api-version=7.1-preview.1`,
        { headers: { Authorization: BASIC } },
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get("content-type"), "text/html");
      assert.equal(answer.headers.get("x-test"), "yes");
      assert.equal(await answer.text(), "<html>Sign In</html>");
      const refused = await control("POST", "faults", { path: "x", text: 42 });
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as Json).message as string, /text must be a string/);
    });

    it("creates a personal access token: it authenticates as that person from then on", async () => {
      const profile = (token: string): Promise<Response> =>
        fetch(`${emu.url}/_apis/profile/profiles/me?api-version=7.1`, {
          headers: { Authorization: `Basic ${Buffer.from(`:${token}`).toString("base64")}` },
        });
      emu.world = { ...fixture, tokens: { "owner-pat": fixture.owner } };
      assert.equal((await profile("new-pat")).status, 203, "unknown before it is created");
      const created = await control("POST", "tokens", {
        token: "new-pat",
        principalName: "fabrikam-migration@outlook.com",
      });
      assert.equal(created.status, 201);
      assert.ok(!JSON.stringify(await created.json()).includes("new-pat"), "never echoed");
      const me = (await (await profile("new-pat")).json()) as Json;
      assert.equal(me.emailAddress, "fabrikam-migration@outlook.com");
      const clash = await control("POST", "tokens", {
        token: "new-pat",
        principalName: "someone@else.com",
      });
      assert.equal(clash.status, 409);
      const bad = await control("POST", "tokens", { token: "", principalName: "x@y.z" });
      assert.equal(bad.status, 400);
    });

    it("reports and clears recorded requests, without recording itself", async () => {
      await get("/fabrikam/_apis/projects?api-version=7.1&$top=1");
      await get("/fabrikam/_apis/projects", { auth: false });
      const recorded = (await (await control("GET", "requests")).json()) as RecordedRequest[];
      assert.deepEqual(recorded, [
        {
          method: "GET",
          path: "/fabrikam/_apis/projects",
          query: { "api-version": "7.1", $top: "1" },
          status: 200,
          auth: "basic",
        },
        { method: "GET", path: "/fabrikam/_apis/projects", query: {}, status: 401, auth: "none" },
      ]);
      assert.equal((await control("DELETE", "requests")).status, 204);
      assert.deepEqual(await (await control("GET", "requests")).json(), []);
      assert.equal(emu.requests.length, 0);
    });

    it("reads and replaces the world, refusing an invalid one with the field named", async () => {
      const current = (await (await control("GET", "world")).json()) as World;
      assert.equal(current.organization, "fabrikam");
      const replacement = { ...clone(fixture), organization: "contoso" };
      assert.equal((await control("PUT", "world", replacement)).status, 200);
      assert.equal(emu.world.organization, "contoso");
      assert.equal((await get("/contoso/_apis/projects?api-version=7.1")).status, 200);
      assert.equal((await get("/fabrikam/_apis/projects?api-version=7.1")).status, 404);
      const refused = await control("PUT", "world", {
        ...clone(fixture),
        projects: [{ name: "x", sourceControlType: "svn" }],
      });
      assert.equal(refused.status, 400);
      assert.match(
        ((await refused.json()) as Json).message as string,
        /projects\[0\]\.sourceControlType/,
      );
      assert.equal(emu.world.organization, "contoso", "a refused world changes nothing");
    });

    it("signs a user in, redeems an invitation, adds and removes tenant users", async () => {
      const signedIn = await control("POST", "signin", { principalName: "DEV.SOMEONE@gmail.com" });
      assert.equal(signedIn.status, 200);
      const user = (await signedIn.json()) as Json;
      assert.equal(user.principalName, "dev.someone@gmail.com");
      assert.equal(
        emu.world.users.find((u) => u.principalName === "dev.someone@gmail.com")?.lastAccessedDate,
        user.lastAccessedDate,
      );
      const entitlement = await get(
        `/fabrikam/_apis/userentitlements/${defaultUserId("dev.someone@gmail.com")}?api-version=7.1`,
      );
      assert.notEqual(entitlement.body.lastAccessedDate, "0001-01-01T00:00:00Z");
      assert.equal((await control("POST", "signin", { principalName: "x@y.com" })).status, 404);
      assert.equal((await control("POST", "signin", {})).status, 400);
      assert.equal(
        (await control("POST", "signin", { principalName: "leaver@othercompany.com" })).status,
        409,
        "a disabled user cannot sign in",
      );

      const invited = {
        userPrincipalName: "partner_othercompany.com#EXT#@fabrikam.onmicrosoft.com",
        mail: "partner@othercompany.com",
        userType: "Guest",
        externalUserState: "PendingAcceptance",
      };
      const created = await control("POST", "tenant/users", invited);
      assert.equal(created.status, 201);
      assert.deepEqual(await created.json(), invited);
      assert.equal((await control("POST", "tenant/users", invited)).status, 409);
      const invalid = await control("POST", "tenant/users", { ...invited, userType: "guest" });
      assert.equal(invalid.status, 400);
      assert.match(((await invalid.json()) as Json).message as string, /user\.userType/);
      assert.equal(
        normalizeWorld(emu.world).tenant.users.at(-1)?.externalUserState,
        "PendingAcceptance",
      );

      // Redeemed by the address the guest UPN encodes, whatever the case.
      const redeemed = await control("POST", "redeem", { address: "Partner@OtherCompany.com" });
      assert.equal(redeemed.status, 200);
      assert.equal(((await redeemed.json()) as Json).externalUserState, "Accepted");
      assert.equal((await control("POST", "redeem", { address: "x@y.com" })).status, 404);

      const upn = encodeURIComponent(invited.userPrincipalName);
      assert.equal((await control("DELETE", `tenant/users/${upn}`)).status, 204);
      assert.equal((await control("DELETE", `tenant/users/${upn}`)).status, 404);
      assert.equal(
        (await control("DELETE", "tenant/users/ADA.LOVELACE@fabrikam.com")).status,
        204,
        "by mail too",
      );
      assert.deepEqual(
        emu.world.tenant.users.map((t) => t.userPrincipalName),
        fixture.tenant.users
          .map((t) => t.userPrincipalName)
          .filter((u) => u !== "alovelace@fabrikam.com"),
      );
      assert.throws(() => emu.removeTenantUser("nobody@fabrikam.com"), /no tenant user/);
      assert.throws(() => emu.signIn("nobody@fabrikam.com"), /not a user of the organization/);
      assert.throws(() => emu.redeem("nobody@fabrikam.com"), /no tenant user/);
      assert.deepEqual(emu.mutations, [], "control edits are not mutations");
      assert.equal(emu.requests.length, 1, "nor recorded requests");
    });

    it("reports and clears the mutation log", async () => {
      const added = await post("/fabrikam/_apis/userentitlements?api-version=7.1", {
        accessLevel: { licensingSource: "account", accountLicenseType: "express" },
        user: { principalName: "new@example.com", subjectKind: "user" },
      });
      assert.equal(added.body.isSuccess, true);
      const refused = await post("/fabrikam/_apis/userentitlements?api-version=7.1", {
        accessLevel: { licensingSource: "account", accountLicenseType: "express" },
        user: { principalName: "new@example.com", subjectKind: "user" },
      });
      assert.equal(refused.body.isSuccess, false);
      const id = defaultUserId("new@example.com");
      assert.equal(
        (await call("DELETE", `/fabrikam/_apis/userentitlements/${id}?api-version=7.1`)).status,
        200,
      );
      assert.equal(
        (await call("DELETE", `/fabrikam/_apis/userentitlements/${id}?api-version=7.1`)).status,
        404,
      );
      const log = [
        { kind: "addUser", value: "new@example.com", by: "jamalhartnett@fabrikam.com" },
        { kind: "removeUser", value: "new@example.com", by: "jamalhartnett@fabrikam.com" },
      ];
      assert.deepEqual(await (await control("GET", "mutations")).json(), log);
      assert.deepEqual(emu.mutations, log);
      assert.equal((await control("DELETE", "mutations")).status, 204);
      assert.deepEqual(await (await control("GET", "mutations")).json(), []);
      assert.equal(emu.mutations.length, 0);
    });
  });

  describe("behaviour switches, propagation and the newer service rules", () => {
    const ORGANIZATION = "/fabrikam/_apis/Organization/Organizations/Me?api-version=5.0-preview.1";
    const COLLECTION = "/fabrikam/_apis/Organization/Collections/Me?api-version=7.1-preview.1";
    const ENTITLEMENTS = "/fabrikam/_apis/userentitlements?api-version=7.1";
    const NOT_ACTIVE = "Only active members of the AAD tenant are allowed to perform the link";
    const LATE = 60_000;
    const tokens = {
      "pat-ada": "ada.lovelace@fabrikam.com",
      "pat-jamal": "jamalhartnett@fabrikam.com",
      "pat-sam": "Sam.Taylor@Fabrikam.com",
      "pat-partner": "partner@othercompany.com",
    };
    const auth = (token: string): Record<string, string> => ({
      Authorization: `Basic ${Buffer.from(`:${token}`).toString("base64")}`,
    });
    const as = (token: string): { headers: Record<string, string> } => ({ headers: auth(token) });
    async function control(method: string, path: string, body?: unknown): Promise<Answer> {
      const response = await fetch(`${emu.url}/_emulator/${path}`, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text === "" ? {} : (JSON.parse(text) as Json),
        text,
      };
    }
    /** Ada owns the organization: a member by mail only, so no Microsoft-account clash on connect. */
    function world(behaviour: Partial<Behaviour> = {}, edit: (w: World) => void = () => {}): World {
      const w = clone(fixture);
      w.owner = "ada.lovelace@fabrikam.com";
      w.tokens = { ...tokens };
      w.behaviour = behaviour;
      edit(w);
      return w;
    }
    const jsonPatch = (
      path: string,
      field: string,
      value: string,
      token: string,
    ): Promise<Answer> =>
      call("PATCH", path, {
        headers: { ...auth(token), "Content-Type": "application/json-patch+json" },
        body: JSON.stringify([{ from: "", op: 2, path: field, value }]),
      });
    const connect = (token = "pat-ada", tenantId = TENANT_ID): Promise<Answer> =>
      jsonPatch(ORGANIZATION, "/TenantId", tenantId, token);
    const changeOwner = (principalName: string, token = "pat-ada"): Promise<Answer> =>
      jsonPatch(COLLECTION, "/Owner", defaultUserId(principalName), token);
    const mapUser = (principalName: string, target: Json, token = "pat-ada"): Promise<Answer> =>
      call(
        "PATCH",
        `/fabrikam/_apis/graph/users/${String(emulatorDescriptor(emu.world, principalName))}?api-version=7.1-preview.1`,
        {
          headers: { ...auth(token), "Content-Type": "application/json" },
          body: JSON.stringify(target),
        },
      );
    const addUser = (principalName: string, token = "pat-ada"): Promise<Answer> =>
      call("POST", ENTITLEMENTS, {
        headers: { ...auth(token), "Content-Type": "application/json" },
        body: JSON.stringify({
          accessLevel: { licensingSource: "account", accountLicenseType: "express" },
          user: { principalName, subjectKind: "user" },
        }),
      });
    const entitlementUser = async (originalName: string): Promise<Json> =>
      (
        await get(
          `/fabrikam/_apis/userentitlements/${defaultUserId(originalName)}?api-version=7.1`,
          as("pat-ada"),
        )
      ).body.user as Json;
    const deleteLeaver = (token: string): Promise<Answer> =>
      call(
        "DELETE",
        `/fabrikam/_apis/userentitlements/${defaultUserId("leaver@othercompany.com")}?api-version=7.1`,
        as(token),
      );
    const headTenant = async (): Promise<string | null> =>
      (await call("HEAD", "/fabrikam", as("pat-ada"))).headers.get("x-vss-resourcetenant");

    it("reads, replaces and merges the switches over /_emulator/behaviour, refusing a bad one by path", async () => {
      const defaults = await control("GET", "behaviour");
      assert.equal(defaults.status, 200);
      assert.equal(defaults.body.mappingStatus, 201);
      assert.equal(defaults.body.connectBinding, "upn");
      assert.equal(defaults.body.refusedCredential, "signInPage");
      const merged = await control("PATCH", "behaviour", { mappingStatus: 200 });
      assert.equal(merged.body.mappingStatus, 200);
      const replaced = await control("PUT", "behaviour", { tenantHeader: "absent" });
      assert.equal(replaced.body.tenantHeader, "absent");
      assert.equal(replaced.body.mappingStatus, 201, "PUT replaces: the others are defaults again");
      assert.deepEqual((await control("GET", "world")).body.behaviour, { tenantHeader: "absent" });
      const bad = await control("PUT", "behaviour", { mappingStatus: 204 });
      assert.equal(bad.status, 400);
      assert.equal(
        bad.body.message,
        "invalid world: behaviour.mappingStatus must be one of 200, 201 (got 204)",
      );
      const unknown = await control("PATCH", "behaviour", { scrub: true });
      assert.match(String(unknown.body.message), /behaviour\.scrub is not a known switch/);
      const negative = await control("PATCH", "behaviour", { entraPropagationMs: -1 });
      assert.match(
        String(negative.body.message),
        /entraPropagationMs must be a number of milliseconds >= 0/,
      );
      assert.throws(
        () => validateWorld({ ...clone(fixture), behaviour: { ownerChange: "later" } }),
        /invalid world: behaviour\.ownerChange must be one of "immediate", "delayed", "ignored" \(got "later"\)/,
      );
      emu.behaviour = { msaTwinRefusal: false };
      assert.equal(emu.behaviour.msaTwinRefusal, false);
      assert.equal(emu.behaviour.tenantHeader, "present");
      assert.throws(
        () => (emu.behaviour = { disconnect: "anyone" } as never),
        /behaviour\.disconnect/,
      );
    });

    it("moves the emulator's clock over /_emulator/clock", async () => {
      assert.equal((await control("GET", "clock")).body.offsetMs, 0);
      const moved = await control("POST", "clock", { advanceMs: 1500 });
      assert.equal(moved.status, 200);
      assert.equal(moved.body.offsetMs, 1500);
      assert.equal(emu.advanceClock(500), 2000);
      assert.equal((await control("POST", "clock", { advanceMs: -5 })).status, 400);
    });

    it("sends X-VSS-ResourceTenant always, never, or only tenantHeaderDelayMs after the connection", async () => {
      emu.world = world({ tenantHeader: "late", tenantHeaderDelayMs: LATE });
      assert.equal(await headTenant(), ZERO_GUID, "no connection yet: nothing to be late about");
      assert.equal((await connect()).status, 200);
      assert.equal(await headTenant(), null, "right after the connection the header is missing");
      emu.advanceClock(LATE);
      assert.equal(await headTenant(), TENANT_ID);

      emu.world = world({ tenantHeader: "absent" });
      assert.equal(await headTenant(), null);
      const anonymous = await call("HEAD", "/fabrikam", { auth: false });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get("x-vss-resourcetenant"), null);

      emu.world = world();
      assert.equal((await connect()).status, 200);
      assert.equal(await headTenant(), TENANT_ID, "present: at once");
    });

    it("answers an authenticated HEAD 200 by default, or with the anonymous challenge", async () => {
      emu.world = world({ authenticatedHead: "challenge" });
      const challenged = await call("HEAD", "/fabrikam", as("pat-ada"));
      assert.equal(challenged.status, 401);
      assert.equal(challenged.headers.get("x-vss-resourcetenant"), ZERO_GUID);
      emu.behaviour = {};
      assert.equal((await call("HEAD", "/fabrikam", as("pat-ada"))).status, 200);
    });

    it("shows Azure DevOps the tenant as it was until Entra changes propagate", async () => {
      emu.world = world({ entraPropagationMs: LATE }, (w) => {
        w.tenant.users[4].externalUserState = "PendingAcceptance";
      });
      assert.equal(
        (await control("POST", "redeem", { address: "alovelace@fabrikam.com" })).status,
        200,
      );
      const early = await connect();
      assert.equal(early.status, 403);
      assert.equal(early.body.message, NOT_ACTIVE, "the redemption has not reached Azure DevOps");
      emu.advanceClock(LATE);
      assert.equal((await connect()).status, 200);

      // A user added in Entra after the connection cannot be a mapping target yet.
      await control("POST", "tenant/users", {
        userPrincipalName: "jkhan@fabrikam.com",
        userType: "Member",
      });
      const unknownYet = await mapUser("jamal@outlook.com", {
        principalName: "jkhan@fabrikam.com",
      });
      assert.equal(unknownYet.status, 400);
      assert.match(unknownYet.text, /Cannot materialize the graph subject/);
      // A guest turned member in Entra still reads as a guest.
      const changed = await control(
        "PATCH",
        `tenant/users/${encodeURIComponent("guest@contoso.com")}`,
        {
          userType: "Member",
        },
      );
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.userType, "Member");
      assert.equal((await entitlementUser("guest@contoso.com")).metaType, "guest");
      emu.advanceClock(LATE);
      assert.equal((await entitlementUser("guest@contoso.com")).metaType, "member");
      assert.equal(
        (await mapUser("jamal@outlook.com", { principalName: "jkhan@fabrikam.com" })).status,
        201,
      );
      const refused = await control("PATCH", "tenant/users/nobody@fabrikam.com", {
        userType: "Guest",
      });
      assert.equal(refused.status, 404);
      const badField = await control("PATCH", "tenant/users/jkhan@fabrikam.com", {
        userPrincipalName: "x@y.z",
      });
      assert.equal(badField.status, 400);
      assert.match(String(badField.body.message), /cannot change userPrincipalName/);
    });

    it("reports the previous tenant in Collections/Me until connectionPropagationMs has passed", async () => {
      emu.world = world({ connectionPropagationMs: LATE });
      const answer = await connect();
      assert.equal(answer.body.tenantId, TENANT_ID, "the PATCH's own answer");
      assert.equal(emu.world.tenantId, TENANT_ID, "committed");
      assert.equal((await get(COLLECTION, as("pat-ada"))).body.tenantId, ZERO_GUID);
      assertMicrosoftError(await connect(), 400, "OrganizationAlreadyLinkedToTenantException");
      emu.advanceClock(LATE);
      assert.equal((await get(COLLECTION, as("pat-ada"))).body.tenantId, TENANT_ID);
    });

    it("applies an owner change at once, ownerChangeDelayMs later, or never while answering 200", async () => {
      const samId = defaultUserId("sam.taylor@fabrikam.com");
      const adaId = defaultUserId("ada.lovelace@fabrikam.com");
      emu.world = world({ ownerChange: "delayed", ownerChangeDelayMs: LATE });
      const delayed = await changeOwner("Sam.Taylor@Fabrikam.com");
      assert.equal(delayed.status, 200);
      assert.equal(delayed.body.owner, adaId, "accepted, not applied yet");
      assert.equal((await get(COLLECTION, as("pat-ada"))).body.owner, adaId);
      emu.advanceClock(LATE);
      assert.equal((await get(COLLECTION, as("pat-ada"))).body.owner, samId);
      assert.equal(emu.world.owner, "Sam.Taylor@Fabrikam.com");

      emu.world = world({ ownerChange: "ignored" });
      emu.resetMutations();
      assert.equal((await changeOwner("Sam.Taylor@Fabrikam.com")).status, 200);
      emu.advanceClock(LATE);
      assert.equal((await get(COLLECTION, as("pat-ada"))).body.owner, adaId, "never applied");
      assert.deepEqual(
        emu.mutations.map((m) => m.kind),
        ["owner"],
        "the accepted request is logged",
      );
    });

    it("keeps or revokes the Microsoft accounts' personal access tokens at the connection", async () => {
      emu.world = world({ msaTokensAfterConnect: "revoke" });
      assert.equal((await connect()).status, 200);
      for (const token of Object.keys(tokens)) {
        assert.equal((await get(ENTITLEMENTS, as(token))).status, 203, `${token} no longer works`);
      }
      assert.deepEqual(emu.world.tokens, {});
      await control("POST", "tokens", {
        token: "pat-new",
        principalName: "alovelace@fabrikam.com",
      });
      assert.equal((await get(ENTITLEMENTS, as("pat-new"))).status, 200, "a new token works");

      emu.world = world();
      assert.equal((await connect()).status, 200);
      assert.equal((await get(ENTITLEMENTS, as("pat-ada"))).status, 200, "keep: the default");
    });

    it("refuses a one-organization token on the profile endpoint, and reports the profile's own e-mail", async () => {
      emu.world = world({}, (w) => {
        w.tokens = {
          "pat-one-org": { principalName: "Sam.Taylor@Fabrikam.com", allOrganizations: false },
        };
        w.users[3].profileEmail = "sam@taylor.example";
      });
      const profile = "/_apis/profile/profiles/me?api-version=7.1-preview.3";
      assertMicrosoftError(
        await get(profile, as("pat-one-org")),
        401,
        "UnauthorizedRequestException",
        "all accessible organizations",
      );
      assert.equal(
        (await get(ENTITLEMENTS, as("pat-one-org"))).status,
        200,
        "it works on the organization",
      );
      emu.behaviour = { profileTokens: "any" };
      const me = await get(profile, as("pat-one-org"));
      assert.equal(me.status, 200);
      assert.equal(me.body.emailAddress, "sam@taylor.example", "not the sign-in name");
      assert.equal(me.body.id, defaultUserId("Sam.Taylor@Fabrikam.com"));
    });

    it("checks a token's scopes against the operation's, and its expiry", async () => {
      const ada = "ada.lovelace@fabrikam.com";
      emu.world = world({}, (w) => {
        w.tokens = {
          "pat-graph": { principalName: ada, scopes: ["vso.graph"] },
          "pat-members": { principalName: ada, scopes: ["vso.memberentitlementmanagement_write"] },
          "pat-projects": { principalName: ada, scopes: ["vso.project"] },
          "pat-old": { principalName: ada, expiresAt: "2020-01-01T00:00:00Z" },
          "pat-soon": {
            principalName: ada,
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          },
        };
      });
      const graphUsers = "/fabrikam/_apis/graph/users?api-version=7.1-preview.1";
      assert.equal((await get(graphUsers, as("pat-graph"))).status, 200);
      assertMicrosoftError(
        await mapUser("jamal@outlook.com", { principalName: "jamal@fabrikam.com" }, "pat-graph"),
        401,
        "UnauthorizedRequestException",
        "vso.graph_manage",
      );
      assertMicrosoftError(
        await get(ENTITLEMENTS, as("pat-graph")),
        401,
        "UnauthorizedRequestException",
      );
      assert.equal((await get(ENTITLEMENTS, as("pat-members"))).status, 200, "write includes read");
      assert.equal(
        (await get("/fabrikam/_apis/projects?api-version=7.1", as("pat-projects"))).status,
        200,
      );
      assertMicrosoftError(
        await get(COLLECTION, as("pat-projects")),
        401,
        "UnauthorizedRequestException",
        "full access",
      );
      assert.equal(
        (await get(ENTITLEMENTS, as("pat-old"))).status,
        203,
        "expired: the sign-in page",
      );
      assert.equal((await get(ENTITLEMENTS, as("pat-soon"))).status, 200);
      emu.advanceClock(2 * 3_600_000);
      assert.equal((await get(ENTITLEMENTS, as("pat-soon"))).status, 203);
      assert.throws(
        () =>
          validateWorld({
            ...clone(fixture),
            tokens: { t: { principalName: ada, scopes: ["graph"] } },
          }),
        /tokens \(entry 1\)\.scopes\[0\] must be a scope such as "vso\.graph_manage"/,
      );
    });

    it("answers a refused credential with the sign-in page (203), a redirect to it, or 401", async () => {
      emu.world = world();
      const page = await get(ENTITLEMENTS, as("pat-unknown"));
      assert.equal(page.status, 203);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(page.text, /<title>Azure DevOps Services \| Sign In<\/title>/);
      assert.equal((await addUser("new@example.com", "pat-unknown")).status, 203);
      const patched = await connect("pat-unknown");
      assertMicrosoftError(
        patched,
        401,
        "UnauthorizedRequestException",
        "TF400813: The user '' is not authorized",
      );
      assertMicrosoftError(await deleteLeaver("pat-unknown"), 401, "UnauthorizedRequestException");

      emu.behaviour = { refusedCredential: "redirect" };
      const moved = await get(ENTITLEMENTS, as("pat-unknown"));
      assert.equal(moved.status, 302);
      const location = moved.headers.get("location") ?? "";
      assert.ok(location.startsWith(`${emu.url}/_signin?realm=dev.azure.com&reply_to=`), location);
      assert.match(moved.text, /Object moved/);
      const signIn = await fetch(location);
      assert.equal(signIn.status, 200);
      assert.match(await signIn.text(), /Sign in to Azure DevOps/);

      emu.behaviour = { refusedCredential: "unauthorized" };
      assertMicrosoftError(
        await get(ENTITLEMENTS, as("pat-unknown")),
        401,
        "UnauthorizedRequestException",
      );
      assert.equal(emu.mutations.length, 0);
    });

    it("commits a write and then loses its answer with an afterCommit fault, also over POST /_emulator/faults", async () => {
      emu.world = world();
      emu.injectFault({
        method: "POST",
        path: "/_apis/userentitlements",
        status: 500,
        afterCommit: true,
      });
      assertMicrosoftError(await addUser("late@example.com"), 500, "VssServiceException");
      assert.ok(
        emu.world.users.some((u) => u.principalName === "late@example.com"),
        "committed",
      );
      assert.deepEqual(
        emu.mutations.map((m) => `${m.kind} ${m.value}`),
        ["addUser late@example.com"],
      );
      const retried = await addUser("late@example.com");
      assert.equal(retried.body.isSuccess, false, "the retry meets what the first attempt did");

      const created = await control("POST", "faults", {
        method: "PATCH",
        path: "Organizations/Me",
        drop: true,
        afterCommit: true,
      });
      assert.equal(created.status, 201);
      const listed = (await control("GET", "faults")).body as unknown as Json[];
      assert.equal(listed[0].afterCommit, true);
      assert.equal(listed[0].drop, true);
      await assert.rejects(connect(), /fetch failed|other side closed|socket/i);
      assert.equal(emu.world.tenantId, TENANT_ID, "the connection happened");
      assert.deepEqual(
        emu.requests.filter((r) => r.dropped).map((r) => [r.method, r.status]),
        [["PATCH", 0]],
      );

      // Dropped before the service: nothing happens.
      emu.world = world();
      emu.injectFault({ method: "PATCH", path: "Organizations/Me", drop: true });
      await assert.rejects(connect());
      assert.equal(emu.world.tenantId, null);
      assert.throws(() => emu.injectFault({ path: "x", afterCommit: true }), /afterCommit needs/);
      assert.throws(
        () => emu.injectFault({ path: "x", drop: true, status: 500 }),
        /answers nothing/,
      );
    });

    it("sends Retry-After and X-RateLimit-* on a delayed HTTP 200, and TF400733 on a 429", async () => {
      emu.injectFault({ path: "/_apis/projects", rateLimited: true, retryAfter: 3, delayMs: 20 });
      const slowed = await get("/fabrikam/_apis/projects?api-version=7.1");
      assert.equal(slowed.status, 200);
      assert.equal((slowed.body.value as Json[]).length, 2, "the real answer");
      assert.equal(slowed.headers.get("retry-after"), "3");
      assert.equal(slowed.headers.get("x-ratelimit-resource"), "Core");
      assert.equal(slowed.headers.get("x-ratelimit-remaining"), "0");
      emu.injectFault({ path: "/_apis/projects", status: 429 });
      const blocked = await get("/fabrikam/_apis/projects?api-version=7.1");
      assertMicrosoftError(blocked, 429, "RequestBlockedException");
      assert.match(String(blocked.body.message), /^TF400733: The request has been canceled: /);
    });

    it("shows a mapping in entitlements only mappingVisibilityMs after it answered 201", async () => {
      emu.world = world({ mappingVisibilityMs: LATE });
      assert.equal((await connect()).status, 200);
      const mapped = await mapUser("jamal@outlook.com", { principalName: "jamal@fabrikam.com" });
      assert.equal(mapped.status, 201);
      const before = await entitlementUser("jamal@outlook.com");
      assert.equal(before.origin, "msa", "the read still shows the Microsoft account");
      assert.equal(before.principalName, "jamal@outlook.com");
      const again = await call(
        "PATCH",
        `/fabrikam/_apis/graph/users/${String(mapped.body.descriptor)}?api-version=7.1-preview.1`,
        {
          headers: { ...auth("pat-ada"), "Content-Type": "application/json" },
          body: JSON.stringify({ principalName: "jamal@fabrikam.com" }),
        },
      );
      assertMicrosoftError(
        again,
        400,
        "GraphBadRequestException",
        "Cannot transfer identity to itself",
      );
      emu.advanceClock(LATE);
      const after = await entitlementUser("jamal@outlook.com");
      assert.equal(after.origin, "aad");
      assert.equal(after.principalName, "jamal@fabrikam.com");
    });

    it("refuses a Microsoft-account owner who is a member's twin, unless msaTwinRefusal is off", async () => {
      emu.world = world({}, (w) => (w.owner = "jamalhartnett@fabrikam.com"));
      assertMicrosoftError(await connect("pat-jamal"), 400, "MsaIdentityConflictException");
      emu.behaviour = { msaTwinRefusal: false };
      assert.equal((await connect("pat-jamal")).status, 200);
    });

    it("binds by sign-in address, a guest by its invited address; refuses duplicate UPNs unless binding by mail", async () => {
      emu.world = world();
      assert.equal((await connect()).status, 200);
      const bound = (name: string): string | undefined =>
        emu.world.users.find((u) =>
          u.id === undefined ? u.principalName === name : u.id === defaultUserId(name),
        )?.origin;
      assert.equal(
        bound("guest@contoso.com"),
        "aad",
        "the guest signs in with its invited address",
      );
      assert.equal(bound("Sam.Taylor@Fabrikam.com"), "aad");
      assert.equal(bound("ada.lovelace@fabrikam.com"), "msa", "a mail is not a sign-in address");

      const twoIdentities = (w: World): void => {
        w.users.push({
          principalName: "partner@othercompany.com",
          origin: "aad",
          id: deterministicGuid("second partner"),
        });
      };
      emu.world = world({}, twoIdentities);
      const refused = await connect();
      assertMicrosoftError(
        refused,
        400,
        "OrganizationDuplicateIdentitiesException",
        "multiple active identities with the same UPN 'partner@othercompany.com'",
      );
      assert.equal(emu.world.tenantId, null);
      assert.ok(
        emu.world.users.every((u) => u.origin === "msa" || u.id !== undefined),
        "nobody bound",
      );
      emu.world = world({ connectBinding: "upnOrMail" }, twoIdentities);
      assert.equal((await connect()).status, 200, "the former model skips conflicts silently");

      assert.throws(
        () =>
          validateWorld(
            world({}, (w) =>
              w.users.push({
                principalName: "PARTNER@othercompany.com",
                origin: "msa",
                id: deterministicGuid("x"),
              }),
            ),
          ),
        /users\[9\]\.principalName duplicates users\[1\]\.principalName/,
      );
      assert.throws(
        () =>
          validateWorld(
            world({}, (w) =>
              w.users.push({ principalName: "partner@othercompany.com", origin: "aad" }),
            ),
          ),
        /users\[9\]\.id duplicates users\[1\]\.id \(user ids \(users sharing a principalName need an explicit id\)/,
      );
    });

    it("invites an external address as a B2B guest in a connected organization, or refuses 5102 without guest access", async () => {
      emu.world = world({}, (w) => (w.tenantId = TENANT_ID));
      const added = await addUser("NewPartner@partner.org");
      assert.equal(added.body.isSuccess, true, JSON.stringify(added.body));
      const user = (added.body.userEntitlement as Json).user as Json;
      assert.equal(user.origin, "aad");
      assert.equal(user.metaType, "guest");
      assert.equal(user.principalName, "NewPartner@partner.org");
      const guest = emu.world.tenant.users.at(-1);
      assert.equal(
        guest?.userPrincipalName,
        "newpartner_partner.org#EXT#@fabrikam.onmicrosoft.com",
      );
      assert.equal(guest?.userType, "Guest");
      assert.equal(guest?.externalUserState, "PendingAcceptance");

      const member = await addUser("jamal@fabrikam.com");
      const memberUser = (member.body.userEntitlement as Json).user as Json;
      assert.equal(
        memberUser.originId,
        defaultObjectId(TENANT_ID, "jamal@fabrikam.com"),
        "an existing identity is bound",
      );
      assert.equal(memberUser.metaType, "member");
      const refusal = async (principalName: string): Promise<Json> => {
        const answer = await addUser(principalName);
        assert.equal(answer.body.isSuccess, false);
        return ((answer.body.operationResult as Json).errors as Json[])[0];
      };
      assert.equal(
        (await refusal("ghost@fabrikam.com")).key,
        "5000",
        "the tenant's domain, not in it",
      );
      emu.behaviour = { externalGuestAccess: false };
      assert.deepEqual(await refusal("other@partner.org"), {
        key: "5102",
        value:
          "You are trying to invite a user from outside your directory, but something went wrong. Please contact Azure DevOps support.",
      });
      emu.world = world();
      const msa = await addUser("someone@outlook.com");
      assert.equal(
        ((msa.body.userEntitlement as Json).user as Json).origin,
        "msa",
        "not connected: a Microsoft account",
      );
    });

    it("refuses adds by a caller who is not a Project Collection Administrator with 5032, deletes with 403", async () => {
      emu.world = world();
      const refused = await addUser("new@example.com", "pat-partner");
      assert.equal(refused.status, 200);
      assert.deepEqual(((refused.body.operationResult as Json).errors as Json[])[0], {
        key: "5032",
        value:
          "Access Denied: partner@othercompany.com needs the following permission(s) on the resource Users to perform this action: Add Users",
      });
      assertMicrosoftError(await deleteLeaver("pat-partner"), 403, "AccessCheckException");
      assert.equal(emu.world.users.length, 9);
    });

    it("reports gitEnabled and tfvcEnabled as the world project says, whatever its sourceControlType", async () => {
      emu.world = world({}, (w) => {
        w.projects.push({ name: "mixed", sourceControlType: "Git", tfvcEnabled: true });
      });
      const mixed = await get(
        "/fabrikam/_apis/projects/mixed?includeCapabilities=true&api-version=7.1",
        as("pat-ada"),
      );
      assert.deepEqual((mixed.body.capabilities as Json).versioncontrol, {
        sourceControlType: "Git",
        gitEnabled: "True",
        tfvcEnabled: "True",
      });
      const legacy = await get(
        "/fabrikam/_apis/projects/legacy?includeCapabilities=true&api-version=7.1",
        as("pat-ada"),
      );
      assert.deepEqual((legacy.body.capabilities as Json).versioncontrol, {
        sourceControlType: "Tfvc",
        gitEnabled: "False",
        tfvcEnabled: "True",
      });
      assert.throws(
        () =>
          validateWorld(
            world({}, (w) =>
              w.projects.push({ name: "x", sourceControlType: "Git", gitEnabled: "yes" as never }),
            ),
          ),
        /projects\[2\]\.gitEnabled must be true or false \(got "yes"\)/,
      );
    });
  });

  describe("command line", () => {
    const tsx = resolve(__dirname, "..", "node_modules", ".bin", "tsx");
    const cli = join(__dirname, "emulator", "cli.ts");

    function run(args: string[]): {
      child: ReturnType<typeof spawn>;
      firstLine: Promise<string>;
      exit: Promise<number | null>;
      stderr: () => string;
    } {
      const child = spawn(process.execPath, [tsx, cli, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      const exit = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
      const firstLine = new Promise<string>((done, fail) => {
        child.stdout?.on("data", (chunk: Buffer) => {
          stdout += chunk.toString("utf8");
          if (stdout.includes("\n")) {
            done(stdout.slice(0, stdout.indexOf("\n")));
          }
        });
        void exit.then((code) =>
          fail(new Error(`exited ${code} before printing; stderr: ${stderr}`)),
        );
      });
      return { child, firstLine, exit, stderr: () => stderr };
    }

    it("prints the URL as its first line, serves the fixture, logs requests and exits on SIGTERM", async () => {
      const proc = run(["--port", "0", "--fixture", FIXTURE, "--page-size", "3"]);
      try {
        const line = await proc.firstLine;
        assert.match(line, /^listening on http:\/\/127\.0\.0\.1:\d+$/);
        const url = line.slice("listening on ".length);
        const answer = await fetch(`${url}/fabrikam/_apis/userentitlements?api-version=7.1`, {
          headers: { Authorization: BASIC },
        });
        const body = (await answer.json()) as Json;
        assert.equal((body.items as Json[]).length, 3);
        assert.equal(body.totalCount, 9);
      } finally {
        proc.child.kill("SIGTERM");
      }
      assert.equal(await proc.exit, 0);
      assert.match(
        proc.stderr(),
        /GET \/fabrikam\/_apis\/userentitlements\?api-version=7\.1 -> 200/,
      );
    });

    it("exits with code 2 naming the file and field of a bad fixture", async () => {
      const dir = mkdtempSync(join(tmpdir(), "emulator-cli-"));
      try {
        const bad = join(dir, "world.json");
        writeFileSync(
          bad,
          JSON.stringify({ ...fixture, tenant: { ...fixture.tenant, id: "nope" } }),
        );
        const proc = run(["--port", "0", "--fixture", bad]);
        proc.firstLine.catch(() => undefined); // it never prints one
        assert.equal(await proc.exit, 2);
        assert.ok(proc.stderr().includes(bad), proc.stderr());
        assert.match(proc.stderr(), /tenant\.id must be a tenant GUID/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
