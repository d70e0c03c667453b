import { strict as assert } from "node:assert";
import { inspect } from "node:util";
import type { AccessToken, TokenCredential } from "@azure/identity";
import * as pulumi from "@pulumi/pulumi";
import { withoutPackageFrames } from "../program";
import type { Category } from "../plan/types";
import { Emulator, startEmulator } from "./emulator/server";
import type { World } from "./emulator/world";
import { OWNER_TOKEN, Run, fixture, runProgram, stackConfig } from "./support/programRun";
import { TYPES, WorldMocks, unwrap } from "./support/worldMocks";

const INVITATION = TYPES.invitation;
const TOKEN = OWNER_TOKEN;

describe("the program under mocks, with the emulator for Azure DevOps", () => {
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = await startEmulator({ world: fixture() });
  });
  afterEach(() => emulator.close());

  const run = (mocks: WorldMocks, config: Record<string, string>, preview = false): Promise<Run> =>
    runProgram(emulator, mocks, config, preview);

  const categories = (r: Run): Record<string, Category> =>
    Object.fromEntries(r.outputs.migrationPlan.users.map((u) => [u.principalName, u.category]));

  it("invites exactly the missing users and outputs the expected plan", async () => {
    const world = fixture();
    const r = await run(new WorldMocks(world), stackConfig(world));

    const invitations = r.mocks.registered(INVITATION);
    assert.deepEqual(invitations.map((i) => i.name).sort(), [
      "guests-dev.someone@gmail.com",
      "guests-partner@othercompany.com",
    ]);
    const partner = invitations.find((i) => i.name === "guests-partner@othercompany.com");
    assert.deepEqual(partner?.inputs, {
      userEmailAddress: "partner@othercompany.com",
      redirectUrl: "https://dev.azure.com/fabrikam",
      userType: "Guest",
      userDisplayName: "Pat Partner",
      message: {
        body: "The Azure DevOps organization fabrikam is moving its sign-in to your organization's Microsoft Entra ID. Accept this invitation, then sign in to https://dev.azure.com/fabrikam with this account.",
      },
    });
    assert.deepEqual(r.invitedGuests, ["dev.someone@gmail.com", "partner@othercompany.com"]);

    assert.deepEqual(categories(r), {
      "jamalhartnett@fabrikam.com": "tenantMember",
      "partner@othercompany.com": "invite",
      "dev.someone@gmail.com": "invite",
      "Sam.Taylor@Fabrikam.com": "tenantMember",
      "guest@contoso.com": "tenantGuest",
      "jamal@outlook.com": "mapAfterConnect",
      "leaver@othercompany.com": "excluded",
      "olduser@fabrikam.com": "historic",
      // Her tenant account has her address as its mail, not as its sign-in name: mapped later.
      "ada.lovelace@fabrikam.com": "mapAfterConnect",
    });
    const plan = r.outputs.migrationPlan;
    assert.equal(plan.organization, "fabrikam");
    assert.equal(plan.phase, "prepare");
    assert.deepEqual(plan.summary, {
      tenantMember: 2,
      tenantGuest: 1,
      invite: 2,
      mapAfterConnect: 2,
      supportTicket: 0,
      acceptedHistoric: 0,
      excluded: 1,
      historic: 1,
    });
    assert.deepEqual(plan.blockers.map((b) => b.code).sort(), [
      "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
      "HISTORIC_USERS_NOT_ACCEPTED",
      "TEMPORARY_OWNER_NOT_CONFIGURED",
      "TEMPORARY_OWNER_REQUIRED",
      "TFVC_IN_USE",
    ]);
    assert.deepEqual(plan.warnings.map((w) => w.code).sort(), ["IDENTITY_MAPPINGS_PLANNED"]);
    assert.match(
      r.outputs.report,
      /\*\*5 blocker\(s\)\*\* must be cleared before the `connect` phase/,
    );

    // The owner's MSA equals his Entra identity: a temporary owner is needed and none is configured,
    // so the program proposes an alias kept in the state, and registers nothing of the pairing yet.
    assert.equal(r.mocks.registered(TYPES.randomPet).length, 1);
    assert.equal(
      await unwrap(r.outputs.temporaryOwner?.proposedMsaEmail as pulumi.Output<string>),
      "fabrikam-migration-brave-otter@outlook.com",
    );
    assert.equal(r.mocks.registered(TYPES.temporaryOwner).length, 0);
    assert.equal(r.mocks.registered(TYPES.tenantConnection).length, 0);

    // Four directory invokes whatever the size of the organization; no per-user lookups.
    assert.deepEqual(
      r.mocks.invokes.filter((t) => t.endsWith("getUsers")),
      ["azuread:index/getUsers:getUsers"],
    );
    assert.deepEqual(r.mocks.invokes.sort(), [
      "azuread:index/getClientConfig:getClientConfig",
      "azuread:index/getDomains:getDomains",
      "azuread:index/getUser:getUser",
      "azuread:index/getUsers:getUsers",
      "pulumi:pulumi:readStackResourceOutputs",
    ]);
    assert.equal(r.client.requestCount, emulator.requests.length);
  });

  it("stops blocking on a historic user once it is accepted, and invites nobody extra", async () => {
    const world = fixture();
    const r = await run(
      new WorldMocks(world),
      stackConfig(world, { acceptHistoricUsers: ["OldUser@fabrikam.com"] }),
    );
    assert.equal(categories(r)["olduser@fabrikam.com"], "acceptedHistoric");
    assert.ok(
      !r.outputs.migrationPlan.blockers.some((b) => b.code === "HISTORIC_USERS_NOT_ACCEPTED"),
    );
    assert.equal(r.mocks.registered(INVITATION).length, 2);
  });

  it("registers the same invitations after `up` and after the invitees redeemed (no diff)", async () => {
    const world = fixture();
    const first = await run(new WorldMocks(world), stackConfig(world));
    // What the program declares, not what the mocked tenant answered: the state of an invitation
    // (its user id, its redeem URL) is the tenant's, and differs between the two runs.
    const declared = (r: typeof first) =>
      r.mocks.registered(INVITATION).map(({ name, inputs }) => ({ name, inputs }));
    const before = declared(first);

    // The invitees are now guests of the tenant; the stack's state holds their invitations.
    const redeemed = fixture();
    for (const address of first.invitedGuests) {
      const [alias, domain] = address.split("@");
      redeemed.tenant.users.push({
        userPrincipalName: `${alias}_${domain}#EXT#@fabrikam.onmicrosoft.com`,
        mail: address,
        userType: "Guest",
      });
    }
    const second = await run(new WorldMocks(redeemed, first.state), stackConfig(world), true);
    assert.deepEqual(declared(second), before);
    assert.deepEqual(second.invitedGuests, first.invitedGuests);
    // The plan reads the same before the invitations and after the invitees redeemed: no output
    // changes either.
    assert.deepEqual(second.outputs.migrationPlan, first.outputs.migrationPlan);
    assert.equal(second.outputs.report, first.outputs.report);

    // Without that state the same tenant would read as pre-existing guests: no invitation at all.
    const noLedger = await run(new WorldMocks(redeemed), stackConfig(world), true);
    assert.equal(noLedger.mocks.registered(INVITATION).length, 0);
  });

  it("invites each user at the address they sign in with, not their mail", async () => {
    const world = fixture();
    world.users.push({
      principalName: "pat@outlook.com",
      mailAddress: "Partner@OtherCompany.com",
      origin: "msa",
    });
    emulator.world = world;
    const r = await run(new WorldMocks(world), stackConfig(world));
    assert.deepEqual(
      r.mocks
        .registered(INVITATION)
        .map((i) => i.inputs.userEmailAddress)
        .sort(),
      ["dev.someone@gmail.com", "partner@othercompany.com", "pat@outlook.com"],
    );
  });

  it("uses the configured invitation settings and sends no email when asked", async () => {
    const world = fixture();
    const r = await run(
      new WorldMocks(world),
      stackConfig(world, {
        invitation: {
          userType: "Member",
          sendEmail: false,
          redirectUrl: "https://myapps.microsoft.com",
        },
      }),
    );
    for (const i of r.mocks.registered(INVITATION)) {
      assert.equal(i.inputs.userType, "Member");
      assert.equal(i.inputs.redirectUrl, "https://myapps.microsoft.com");
      assert.equal(i.inputs.message, undefined);
    }
    assert.ok(
      r.outputs.migrationPlan.warnings.some((w) => w.code === "MEMBER_INVITATIONS_NEED_ADMIN"),
    );
  });

  it("keeps the Azure DevOps token out of every registration and output", async () => {
    const world = fixture();
    const r = await run(new WorldMocks(world), stackConfig(world));
    const everything = JSON.stringify({
      registrations: r.mocks.registrations,
      plan: r.outputs.migrationPlan,
      report: r.outputs.report,
    });
    assert.ok(!everything.includes(TOKEN));
    assert.ok(emulator.requests.every((req) => req.auth === "basic"));
  });

  describe("billing", () => {
    const SUBSCRIPTION = "2b53247c-fb65-469e-a711-46e0c29d15a1";
    const OTHER_TENANT = "0e3b7c2a-9d41-4f8e-b6a5-1c2d3e4f5a6b";
    const billed = (): World => ({
      ...fixture(),
      billing: { subscriptionId: SUBSCRIPTION, subscriptionTenantId: OTHER_TENANT },
    });
    const codes = (findings: readonly { code: string }[]): string[] => findings.map((f) => f.code);

    it("warns, with both fixes, in the plan, the report and manualSteps when billing is in another tenant", async () => {
      const world = billed();
      emulator.world = world;
      const r = await run(new WorldMocks(world), stackConfig(world), true);
      const plan = r.outputs.migrationPlan;
      const warning = plan.warnings.find((w) => w.code === "BILLING_IN_OTHER_TENANT");
      assert.ok(warning, codes(plan.warnings).join(", "));
      assert.match(
        warning.message,
        new RegExp(
          `Azure subscription ${SUBSCRIPTION} bills the organization and belongs to directory ${OTHER_TENANT}`,
        ),
      );
      assert.match(warning.message, /\(1\) Change the subscription's directory to tenant 6f1c2a3b/);
      assert.match(warning.message, /\(2\) Or switch the organization's billing/);
      assert.ok(!codes(plan.blockers).some((c) => c.startsWith("BILLING")), "never a blocker");
      assert.ok(r.outputs.report.includes(`\`BILLING_IN_OTHER_TENANT\`: ${warning.message}`));
      assert.ok(r.outputs.manualSteps.includes(warning.message));
      // The PAT went to Azure DevOps only; Azure Resource Manager got no credential at all.
      const arm = emulator.requests.filter((req) => req.path.startsWith("/subscriptions/"));
      assert.deepEqual(
        arm.map((req) => req.auth),
        ["none"],
      );
      assert.ok(
        emulator.requests
          .filter((req) => !req.path.startsWith("/subscriptions/"))
          .every((req) => req.auth === "basic"),
      );
      // Billing changes nothing else: the same invitations as without it.
      assert.equal(r.mocks.registered(INVITATION).length, 2);
    });

    it("notes, without a warning, that billing is not set up", async () => {
      const world = fixture();
      const r = await run(new WorldMocks(world), stackConfig(world));
      assert.deepEqual(codes(r.outputs.migrationPlan.notices), ["BILLING_NOT_SET_UP"]);
      assert.ok(!codes(r.outputs.migrationPlan.warnings).some((c) => c.startsWith("BILLING")));
      assert.match(r.outputs.report, /### Notices\n\n- `BILLING_NOT_SET_UP`/);
      assert.doesNotMatch(r.outputs.manualSteps, /BILLING/);
      assert.equal(
        emulator.requests.filter((req) => req.path.startsWith("/subscriptions/")).length,
        0,
        "no subscription, no ARM call",
      );
    });

    it("turns a billing read that fails (the sign-in page) into a warning, and the run goes on", async () => {
      const world = billed();
      emulator.world = world;
      emulator.injectFault({
        path: "/AzComm/BillingSetup",
        status: 203,
        text: "<html><title>Sign In</title></html>",
      });
      const r = await run(new WorldMocks(world), stackConfig(world));
      const failed = r.outputs.migrationPlan.warnings.find(
        (w) => w.code === "BILLING_CHECK_FAILED",
      );
      assert.ok(failed);
      assert.match(
        failed.message,
        /^Billing could not be checked: which Azure subscription bills the organization could not be found out \(Azure DevOps organization "fabrikam": read the billing setup .* failed with HTTP 203: .*\)\. It does not block the connection/,
      );
      assert.ok(!failed.message.includes(TOKEN));
      assert.match(r.outputs.manualSteps, /Check billing by hand \(`BILLING_CHECK_FAILED`\)/);
      assert.equal(r.mocks.registered(INVITATION).length, 2, "the rest of the run is unchanged");
    });

    it("with an Entra login, asks ARM with an ARM token when the challenge names no tenant", async () => {
      const world = billed();
      emulator.world = world;
      emulator.injectFault({ path: "/subscriptions/", status: 401, body: {} });
      const scopes: string[] = [];
      const entraCredential: TokenCredential = {
        getToken: async (scope): Promise<AccessToken> => {
          scopes.push(String(scope));
          return {
            token: `token-for-${String(scope)}`,
            expiresOnTimestamp: Date.now() + 3_600_000,
          };
        },
      };
      const config = stackConfig(world);
      delete config["devops-entra-connect:devopsToken"];
      const r = await runProgram(emulator, new WorldMocks(world), config, true, {
        entraCredential,
      });
      assert.ok(r.outputs.migrationPlan.warnings.some((w) => w.code === "BILLING_IN_OTHER_TENANT"));
      assert.deepEqual(
        [...new Set(scopes)].sort(),
        ["499b84ac-1321-427f-aa17-267ca6975798/.default", "https://management.azure.com/.default"],
        "an Azure DevOps token for Azure DevOps, an ARM token for ARM",
      );
      assert.deepEqual(
        emulator.requests.filter((q) => q.path.startsWith("/subscriptions/")).map((q) => q.auth),
        ["none", "bearer"],
      );
    });

    it("warns when the subscription's directory cannot be found, naming the subscription", async () => {
      const world = billed();
      emulator.world = world;
      emulator.injectFault({ path: "/subscriptions/", status: 401, body: {}, times: Infinity });
      const r = await run(new WorldMocks(world), stackConfig(world));
      const failed = r.outputs.migrationPlan.warnings.find(
        (w) => w.code === "BILLING_CHECK_FAILED",
      );
      assert.match(
        failed?.message ?? "",
        new RegExp(
          `which directory Azure subscription ${SUBSCRIPTION} belongs to could not be found out .*no ARM token is at hand`,
        ),
      );
    });
  });

  it("fails when the program makes an invoke the mocks do not expect", async () => {
    const world = fixture();
    const mocks = new WorldMocks(world, undefined, undefined, [
      "azuread:index/getDomains:getDomains",
    ]);
    await assert.rejects(
      run(mocks, stackConfig(world)),
      /^Error: Inventory failed; nothing was changed\./,
    );
    assert.deepEqual(mocks.unexpected, ["unexpected invoke azuread:index/getDomains:getDomains"]);
    assert.equal(mocks.registered(INVITATION).length, 0);
  });

  it("refuses a tenant other than the one azuread is signed in to, before registering anything", async () => {
    const world = fixture();
    const mocks = new WorldMocks(world, undefined, "11111111-2222-3333-4444-555555555555");
    await assert.rejects(
      run(mocks, stackConfig(world)),
      /The azuread provider is signed in to tenant 11111111-2222-3333-4444-555555555555, but devops-entra-connect:tenantId is 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b/,
    );
    assert.equal(mocks.registered(INVITATION).length, 0);
  });

  it("fails cleanly, registering nothing, when Azure DevOps keeps failing", async () => {
    const world = fixture();
    emulator.injectFault({ path: "/_apis/userentitlements", status: 500, times: Infinity });
    const mocks = new WorldMocks(world);
    await assert.rejects(
      run(mocks, stackConfig(world)),
      /Inventory failed; nothing was changed\. Azure DevOps organization "fabrikam": list users \(page 1\) .* failed with HTTP 500: .*\(gave up after 3 attempts\)/,
    );
    assert.equal(mocks.registered(INVITATION).length, 0);
  });
});

describe("errors that leave the program", () => {
  it("lose their package frames, so the SDK's util.inspect of them cannot run away", () => {
    // The frame the SDK's source maps produce for its own Stack code: a scope without a package.
    const err = new pulumi.RunError("The connect phase is refused: 1 blocker(s) stand.");
    err.stack = [
      `Error: ${err.message}`,
      "    at migrationProgram (/work/program.ts:249:11)",
      "    at Object.runProgram [as init] (/work/node_modules/@pulumi/cmd/run/run.ts:579:20)",
      "    at Stack.initializeAndRegisterOutputs (/work/node_modules/@pulumi/resource.ts:1687:22)",
    ].join("\n");
    const cleaned = withoutPackageFrames(err);
    assert.equal(cleaned, err, "the same error, with its type and message");
    assert.deepEqual(cleaned.stack?.split("\n"), [
      `Error: ${err.message}`,
      "    at migrationProgram (/work/program.ts:249:11)",
    ]);
    assert.match(inspect(cleaned, { colors: true }), /The connect phase is refused/);
  });
});
