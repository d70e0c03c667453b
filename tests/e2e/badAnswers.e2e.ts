/**
 * Answers that are not what they seem, under the real Pulumi engine: a user listing that is empty,
 * shorter than its own total or loops on its continuation token; a sign-in page (HTTP 200 and 203),
 * a redirect or an empty body where the listing should be; a project list or project page that is
 * HTML or empty, and a project that does not say whether it allows TFVC. Each is injected into
 * the emulator for one run of the whole program, in `prepare` (after a first prepare applied) and
 * in `connect` (with everything else ready, which the last connect proves by connecting).
 *
 * The `it`s run in order on one stack. Tokens come from the environment.
 */
import { strict as assert } from "node:assert";
import type { FaultRule } from "../emulator/faults";
import { type World, defaultProjectId } from "../emulator/world";
import { OWNER_TOKEN, TEMPORARY_TOKEN, fixture, stackConfig } from "../support/programRun";
import { EngineError, type Scenario, ensureCli, newScenario, structuredConfig } from "./harness";

const TEMPORARY = "fabrikam-migration@outlook.com";
const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const INVITEES = ["dev.someone@gmail.com", "partner@othercompany.com"];
const SIGN_IN =
  "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body></body></html>";
/** The program's own user listing (the providers' lookups carry a `$filter` and come later). */
const USERS = /^\/fabrikam\/_apis\/userentitlements$/;
const PROJECTS = /^\/fabrikam\/_apis\/projects$/;
const WEB = `/fabrikam/_apis/projects/${defaultProjectId("fabrikam", "web")}`;

/** A real answer of the listing, to build the bad ones from. */
interface UserPage {
  items: { user: { principalName: string } }[];
  totalCount?: number;
  continuationToken?: string | null;
}

/** One bad answer: the fault rules it takes, and what each phase says about it. */
interface BadAnswer {
  readonly title: string;
  readonly faults: (page: UserPage) => FaultRule[];
  /** The refusal, in connect; the call or the listing must be named. */
  readonly connect: RegExp;
}

const inventoryFailed = (call: string, reason: string): RegExp =>
  new RegExp(`Inventory failed; nothing was changed\\. .*${call}.*${reason}`, "s");
const LIST_USERS = "list users \\(page 1\\)";
const LIST_PROJECTS = "list projects \\(skip 0\\)";
const READ_WEB = 'read project "web"';
const HTML = "the answer is not JSON \\(text/html[^,]*, an HTML page";
const NON_AUTHORITATIVE = "203 Non-Authoritative Information \\(its sign-in page\\)";
const REDIRECT =
  "redirected the request to login\\.example\\.com instead of answering; the redirect is not followed";
const NOT_AN_OBJECT = "not a JSON object";

const signInPage = (path: RegExp | string, status: number): FaultRule => ({
  method: "GET",
  path,
  status,
  text: SIGN_IN,
  contentType: "text/html; charset=utf-8",
});
const emptyBody = (path: RegExp | string): FaultRule => ({
  method: "GET",
  path,
  status: 200,
  text: "",
  contentType: "application/json; charset=utf-8",
});

/** Whose users a listing drops: the two this stack invited. */
const withoutInvitees = (page: UserPage): UserPage["items"] =>
  page.items.filter((i) => !INVITEES.includes(i.user.principalName));

/** Listing problems: the answer is the API's own, and says it is incomplete. */
const LISTING_PROBLEMS: readonly BadAnswer[] = [
  {
    title: "a user listing that answers 200 with an empty page",
    faults: () => [{ method: "GET", path: USERS, body: { items: [], continuationToken: null } }],
    connect: /EMPTY_ORGANIZATION: The organization lists no users, yet it always has its owner/,
  },
  {
    title: "a user listing whose totalCount is larger than what it listed",
    faults: (page) => [
      {
        method: "GET",
        path: USERS,
        body: { ...page, items: withoutInvitees(page), totalCount: page.items.length },
      },
    ],
    connect: new RegExp(
      "INVENTORY_INCOMPLETE: The organization's user listing is not complete, so users could be missed: the service announced \\d+ users but listed \\d+",
    ),
  },
  {
    title: "a user listing whose continuation token loops",
    faults: (page) => {
      const half = Math.ceil(page.items.length / 2);
      return [
        { ...page, items: page.items.slice(0, half) },
        { ...page, items: page.items.slice(half) },
      ].map((body) => ({
        method: "GET",
        path: USERS,
        body: { ...body, continuationToken: "c2tpcD0w" },
      }));
    },
    connect:
      /INVENTORY_INCOMPLETE: .*the service repeated a continuation token on page 2; listing stopped/,
  },
];

/** Answers that are not the API's at all: every phase fails its inventory. */
const NOT_THE_API: readonly BadAnswer[] = [
  {
    title: "an HTML sign-in page with HTTP 200 for the user listing",
    faults: () => [signInPage(USERS, 200)],
    connect: inventoryFailed(LIST_USERS, HTML),
  },
  {
    title: "an HTML sign-in page with HTTP 203 for the user listing",
    faults: () => [signInPage(USERS, 203)],
    connect: inventoryFailed(LIST_USERS, NON_AUTHORITATIVE),
  },
  {
    title: "a redirect for the user listing",
    faults: () => [
      {
        method: "GET",
        path: USERS,
        status: 302,
        headers: { Location: "https://login.example.com/_signin?realm=dev.azure.com" },
      },
    ],
    connect: inventoryFailed(LIST_USERS, REDIRECT),
  },
  {
    title: "an empty body for the user listing",
    faults: () => [emptyBody(USERS)],
    connect: inventoryFailed(LIST_USERS, NOT_AN_OBJECT),
  },
  {
    title: "an HTML project list",
    faults: () => [signInPage(PROJECTS, 200)],
    connect: inventoryFailed(LIST_PROJECTS, HTML),
  },
  {
    title: "an empty project list",
    faults: () => [emptyBody(PROJECTS)],
    connect: inventoryFailed(LIST_PROJECTS, NOT_AN_OBJECT),
  },
  {
    title: "an HTML project page",
    faults: () => [signInPage(WEB, 203)],
    connect: inventoryFailed(READ_WEB, NON_AUTHORITATIVE),
  },
  {
    title: "an empty project page",
    faults: () => [emptyBody(WEB)],
    connect: inventoryFailed(READ_WEB, NOT_AN_OBJECT),
  },
];

/** A project page without its version control capability: TFVC is not ruled out. */
const NO_CAPABILITY: BadAnswer = {
  title: "a project without the version control capability",
  faults: () => [
    { method: "GET", path: WEB, body: { id: defaultProjectId("fabrikam", "web"), name: "web" } },
  ],
  connect:
    /TFVC_NOT_VERIFIED: 1 project\(s\) did not say whether they allow TFVC \(no version control capability in the answer\): web\./,
};

describe("bad listing and project answers under the real Pulumi engine", function () {
  let scenario: Scenario;
  let page: UserPage;
  const world = (): World => scenario.emulator.world;
  const mutations = (): string[] => scenario.emulator.mutations.map((m) => `${m.kind} ${m.value}`);
  /**
   * The resources of the stack's state, as `urn id outputs`, sorted (a failed run may write them
   * in another order); the stack's own outputs (the report) left out.
   */
  const resources = async (): Promise<string[]> => {
    const state = (await scenario.exportState()).deployment as {
      resources?: { urn: string; type: string; id?: string; outputs?: unknown }[];
    };
    return (state.resources ?? [])
      .filter((r) => r.type !== "pulumi:pulumi:Stack")
      .map((r) => `${r.urn} ${r.id} ${JSON.stringify(r.outputs)}`)
      .sort();
  };
  /** Injects the bad answer; after the run, every one of its rules must have been met. */
  const inject = (bad: BadAnswer): (() => void) => {
    scenario.emulator.clearFaults();
    const rules = bad.faults(page);
    const seen = scenario.emulator.requests.length;
    for (const rule of rules) scenario.emulator.injectFault(rule);
    return () => {
      const hit = scenario.emulator.requests
        .slice(seen)
        .filter((r) =>
          rules.some((f) => (f.path instanceof RegExp ? f.path.test(r.path) : r.path === f.path)),
        );
      assert.ok(hit.length >= rules.length, `the bad answer was served (${hit.length} request(s))`);
      scenario.emulator.clearFaults();
    };
  };

  before(async function () {
    this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
    await ensureCli();
    const w = fixture();
    // Every project on Git: TFVC is ruled out only while each project says so.
    w.projects = w.projects.map((p) => ({ ...p, sourceControlType: "Git" as const }));
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    scenario = await newScenario("bad-answers", w, {
      backendQuery: "metadata=skip",
      env: { AZDO_PERSONAL_ACCESS_TOKEN: OWNER_TOKEN, AZDO_TEMPORARY_OWNER_TOKEN: TEMPORARY_TOKEN },
    });
    const config = structuredConfig(
      stackConfig(w, {
        temporaryOwner: { msaEmail: TEMPORARY },
        excludeUsers: [],
        acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
      }),
    );
    delete config["devops-entra-connect:devopsToken"];
    await scenario.setConfig(config);
    const res = await fetch(
      `${scenario.emulator.url}/fabrikam/_apis/userentitlements?api-version=7.1`,
      {
        headers: { Authorization: `Basic ${Buffer.from(`:${OWNER_TOKEN}`).toString("base64")}` },
      },
    );
    page = (await res.json()) as UserPage;
    assert.equal(page.items.length, w.users.length, "one page holds every user");
  });
  after(async () => {
    if (!scenario) return;
    console.log(
      `      e2e timings: ${scenario
        .timings()
        .map((t) => `${t.operation} ${(t.ms / 1000).toFixed(1)} s`)
        .join("; ")}`,
    );
    await scenario.cleanup();
  });

  it("prepare with good answers invites the users and adds the temporary owner", async () => {
    await scenario.up();
    assert.deepEqual(mutations(), [`addUser ${TEMPORARY}`]);
  });

  describe("prepare", () => {
    for (const bad of [...LISTING_PROBLEMS, ...NOT_THE_API]) {
      it(`${bad.title}: refused, and the stack keeps what it holds`, async () => {
        const before = await resources();
        const served = inject(bad);
        const guests = world().tenant.users.length;
        await assert.rejects(scenario.up(), (err: unknown) => {
          assert.ok(err instanceof EngineError, String(err));
          if (LISTING_PROBLEMS.includes(bad)) {
            // The listing is the API's own and says it is incomplete: the plan refuses.
            assert.match(
              err.message,
              /The prepare phase is refused: 1 blocker\(s\) stand, and nothing was changed\./,
            );
          }
          assert.match(err.message, bad.connect);
          return true;
        });
        served();
        assert.deepEqual(mutations(), [`addUser ${TEMPORARY}`], "nothing applied");
        assert.equal(world().tenant.users.length, guests, "nobody invited");
        assert.deepEqual(await resources(), before, "the stack keeps its invitations");
      });
    }

    it(`${NO_CAPABILITY.title}: reported as a blocker for connect; prepare changes nothing`, async () => {
      const before = await resources();
      const served = inject(NO_CAPABILITY);
      const up = await scenario.up();
      served();
      assert.ok(
        up.diagnostics.some(
          (d) =>
            d.severity === "warning" && /^blocker TFVC_NOT_VERIFIED: .*: web\./.test(d.message),
        ),
        "the blocker is reported",
      );
      assert.deepEqual(
        up.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`),
        [],
      );
      assert.deepEqual(mutations(), [`addUser ${TEMPORARY}`]);
      // The one record that changes: this second run saw the temporary owner's invitation answered
      // with a guest of its own, so its invitation may now be deleted at cleanup.
      const verified = (list: string[]) =>
        list.map((r) => r.replace(/"guestDeletable":(true|false)/, '"guestDeletable":…'));
      assert.deepEqual(verified(await resources()), verified(before));
      assert.ok((await resources()).some((r) => r.includes('"guestDeletable":true')));
      assert.ok(before.some((r) => r.includes('"guestDeletable":false')));
    });
  });

  describe("connect", () => {
    before(async () => {
      for (const address of [TEMPORARY, ...INVITEES]) scenario.emulator.redeem(address);
      scenario.emulator.signIn(TEMPORARY);
      await scenario.setConfig({ phase: "connect" });
    });

    for (const bad of [...LISTING_PROBLEMS, ...NOT_THE_API, NO_CAPABILITY]) {
      it(`${bad.title}: refused naming it, nothing applied`, async () => {
        const before = await resources();
        const served = inject(bad);
        await assert.rejects(scenario.up(), (err: unknown) => {
          assert.ok(err instanceof EngineError, String(err));
          if (!NOT_THE_API.includes(bad)) {
            assert.match(err.message, /The connect phase is refused: \d+ blocker\(s\) stand/);
          }
          assert.match(err.message, bad.connect);
          assert.deepEqual(
            err.outcome.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`),
            [],
            "no step was started",
          );
          return true;
        });
        served();
        assert.deepEqual(mutations(), [`addUser ${TEMPORARY}`], "nothing applied");
        assert.equal(world().tenantId, null, "not connected");
        assert.equal(world().owner, "jamalhartnett@fabrikam.com", "ownership unchanged");
        assert.deepEqual(await resources(), before, "the state is unchanged");
      });
    }

    it("with good answers, the same connect connects: the refusals were the answers' doing", async () => {
      await scenario.up();
      assert.deepEqual(mutations(), [
        `addUser ${TEMPORARY}`,
        `owner ${TEMPORARY}`,
        `tenant ${TENANT}`,
      ]);
    });
  });
});
