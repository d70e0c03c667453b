import { strict as assert } from "node:assert";
import type { Emulator } from "./emulator/server";
import { type World, defaultUserId } from "./emulator/world";
import { useEmulator } from "./support/emulatorEnv";
import { providerConfig } from "./support/engineLike";
import { MiniEngine, Step } from "./support/miniEngine";
import {
  OWNER_TOKEN,
  TEMPORARY_TOKEN,
  fixture,
  runProgram,
  stackConfig,
} from "./support/programRun";
import { WorldMocks } from "./support/worldMocks";

const TEMPORARY = "fabrikam-migration@outlook.com";
const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

/**
 * A whole migration of the part-1 world through the emulator: each phase is a program evaluation
 * whose registrations are applied by calling the dynamic providers in the order the engine would.
 */
describe("a whole migration, phase by phase, against the emulator", () => {
  const env = useEmulator(() => {
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    return w;
  });
  let emulator: Emulator;
  before(() => (emulator = env.emulator));

  const settings = {
    temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN },
    excludeUsers: [],
    acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
    allowTfvc: true,
  };
  const config = (phase: string): Record<string, string> =>
    stackConfig(emulator.world, { phase, ...settings });
  let engine: MiniEngine;

  /** One `pulumi up` (or preview, with dryRun) of a phase. */
  async function up(phase: string, dryRun = false): Promise<Step[]> {
    const cfg = config(phase);
    const run = await runProgram(
      emulator,
      new WorldMocks(emulator.world as World, engine.stack()),
      cfg,
      dryRun,
    );
    return engine.apply(run.mocks.registrations, dryRun);
  }
  const changed = (steps: Step[]): string[] =>
    steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);

  it("prepare: invites the missing users and the temporary owner, adds it to the organization", async () => {
    engine = new MiniEngine(
      emulator,
      providerConfig({
        "devops-entra-connect:devopsToken": OWNER_TOKEN,
        "devops-entra-connect:temporaryOwner": JSON.stringify(settings.temporaryOwner),
      }),
    );
    const steps = await up("prepare");
    assert.deepEqual(changed(steps).sort(), [
      "create guests",
      "create guests-dev.someone@gmail.com",
      "create guests-partner@othercompany.com",
      "create temporary-owner",
      "create temporary-owner-invitation",
      "create temporary-owner-user",
    ]);
    assert.deepEqual(
      emulator.mutations.map((m) => `${m.kind} ${m.value}`),
      [`addUser ${TEMPORARY}`],
    );
    assert.deepEqual(changed(await up("prepare", true)), [], "a second preview shows no changes");
  });

  it("connect is refused until the temporary owner redeemed and signed in", async () => {
    await assert.rejects(
      up("connect", true),
      /TEMPORARY_OWNER_INVITATION_NOT_REDEEMED.*\n.*TEMPORARY_OWNER_NEVER_SIGNED_IN/s,
    );
    // The humans' part: redeem the invitations, sign in once.
    emulator.redeem(TEMPORARY);
    emulator.redeem("partner@othercompany.com");
    emulator.redeem("dev.someone@gmail.com");
    emulator.signIn(TEMPORARY);
    assert.deepEqual(
      changed(await up("prepare", true)),
      [],
      "still no changes after the invitees redeemed",
    );
  });

  it("connect: ownership moves to the temporary owner, which connects the organization", async () => {
    const steps = changed(await up("connect"));
    assert.deepEqual([...steps].sort(), [
      "create directory",
      "create directory-connection",
      "create temporary-owner-ownership",
    ]);
    assert.ok(
      steps.indexOf("create temporary-owner-ownership") <
        steps.indexOf("create directory-connection"),
      "ownership moves before the connection",
    );
    assert.equal(emulator.world.tenantId, TENANT);
    assert.equal(emulator.world.owner, TEMPORARY);
    assert.deepEqual(
      changed(await up("connect", true)),
      [],
      "after connecting, a preview shows no changes",
    );
  });

  it("resolve: maps the identity change and the mail-only match with a fresh owner token; the connection is now read as the owner", async () => {
    const steps = changed(await up("resolve"));
    // ada.lovelace@ is her member's mail, not its sign-in name: the connection did not bind her
    // (rule O14), so resolve maps her, as it maps jamal@outlook.com's configured identity change.
    assert.deepEqual(steps, [
      "update directory-connection",
      "create map-ada.lovelace@fabrikam.com",
      "create map-jamal@outlook.com",
    ]);
    const ada = emulator.world.users.find((u) => u.principalName === "alovelace@fabrikam.com");
    assert.equal(ada?.origin, "aad", "ada.lovelace@fabrikam.com now signs in as her member");
    const jamal = emulator.world.users.find((u) => u.principalName === "jamal@fabrikam.com");
    assert.equal(jamal?.origin, "aad", "jamal@outlook.com now signs in as jamal@fabrikam.com");
    assert.deepEqual(
      changed(await up("resolve", true)),
      [],
      "after mapping, a preview shows no changes",
    );
  });

  it("cleanup: hands ownership back, removes the temporary user, deletes its guest — in that order", async () => {
    const steps = await up("cleanup");
    assert.deepEqual(changed(steps), [
      "delete temporary-owner-ownership",
      "delete temporary-owner-user",
      "delete temporary-owner-invitation",
      "delete temporary-owner",
    ]);
    assert.deepEqual(changed(await up("cleanup", true)), []);
  });

  it("ends with the organization on the tenant, the original owner, no temporary user, nobody lost", async () => {
    const w = emulator.world;
    assert.equal(w.tenantId, TENANT);
    assert.equal(w.owner, "jamalhartnett@fabrikam.com");
    assert.ok(
      !w.users.some((u) => u.principalName === TEMPORARY),
      "temporary user removed from the organization",
    );
    assert.ok(
      !w.tenant.users.some((u) => u.mail === TEMPORARY),
      "temporary guest removed from the tenant",
    );
    assert.ok(
      w.tenant.users.some((u) => u.mail === "partner@othercompany.com"),
      "invited guests stay",
    );
    assert.deepEqual(
      emulator.mutations.map((m) => `${m.kind} ${m.value} by ${m.by}`),
      [
        `addUser ${TEMPORARY} by jamalhartnett@fabrikam.com`,
        `owner ${TEMPORARY} by jamalhartnett@fabrikam.com`,
        `tenant ${TENANT} by ${TEMPORARY}`,
        `mapUser ada.lovelace@fabrikam.com -> alovelace@fabrikam.com by jamalhartnett@fabrikam.com`,
        `mapUser jamal@outlook.com -> jamal@fabrikam.com by jamalhartnett@fabrikam.com`,
        `owner jamalhartnett@fabrikam.com by jamalhartnett@fabrikam.com`,
        `removeUser ${TEMPORARY} by jamalhartnett@fabrikam.com`,
      ],
      "each change made once, by the right identity",
    );
    // Every remaining user is bound to a tenant identity, or was explicitly accepted or excluded.
    const disconnected = w.users
      .filter((u) => u.origin !== "aad")
      .map((u) => u.principalName)
      .sort();
    assert.deepEqual(disconnected, ["leaver@othercompany.com", "olduser@fabrikam.com"]);
    const final = await runProgram(
      emulator,
      new WorldMocks(w, engine.stack()),
      config("cleanup"),
      true,
    );
    const summary = final.outputs.migrationPlan.summary;
    assert.equal(summary.historic, 0);
    assert.equal(summary.supportTicket, 0);
    assert.equal(summary.acceptedHistoric, 2);
    assert.equal(
      summary.tenantMember +
        summary.tenantGuest +
        summary.invite +
        summary.excluded +
        summary.mapAfterConnect +
        summary.acceptedHistoric,
      w.users.length,
    );
  });
});

/**
 * The part-1 world plus 250 users, 150 of whom change identity (145 to an account that exists in
 * the tenant, 5 to one that does not yet, accepted as historic meanwhile): every user ends bound
 * to the intended identity or accepted by name.
 */
describe("a 250-user migration where 150 users change identity", () => {
  const identityChanges: Record<string, string> = { "jamal@outlook.com": "jamal@fabrikam.com" };
  const env = useEmulator(() => {
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    for (let i = 0; i < 150; i++) {
      w.users.push({
        principalName: `changer${i}@outlook.com`,
        origin: "msa",
        lastAccessedDate: "2026-10-01T00:00:00Z",
      });
      // The first 5 change to an identity that does not exist yet: accepted as historic meanwhile.
      if (i >= 5) {
        identityChanges[`changer${i}@outlook.com`] = `changer${i}@fabrikam.com`;
        w.tenant.users.push({ userPrincipalName: `changer${i}@fabrikam.com`, userType: "Member" });
      }
    }
    for (let i = 0; i < 60; i++) {
      w.users.push({ principalName: `member${i}@fabrikam.com`, origin: "msa" });
      w.tenant.users.push({
        userPrincipalName: `member${i}@fabrikam.com`,
        mail: `member${i}@fabrikam.com`,
        userType: "Member",
      });
    }
    for (let i = 0; i < 30; i++)
      w.users.push({ principalName: `ext${i}@partner.org`, origin: "msa" });
    for (let i = 0; i < 10; i++) {
      w.users.push({ principalName: `guest${i}@contoso.com`, origin: "msa" });
      w.tenant.users.push({
        userPrincipalName: `guest${i}_contoso.com#EXT#@fabrikam.onmicrosoft.com`,
        mail: `guest${i}@contoso.com`,
        userType: "Guest",
      });
    }
    return w;
  });
  let emulator: Emulator;
  before(() => (emulator = env.emulator));

  it("ends with every user bound to the intended identity, none historic unless accepted", async function () {
    this.timeout(120_000); // four phases over 250 users: slow on a busy machine
    const settings = {
      temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN },
      excludeUsers: [],
      // The 5 whose new identity does not exist are accepted by name (a support ticket is open).
      acceptHistoricUsers: [
        "olduser@fabrikam.com",
        "leaver@othercompany.com",
        ...Array.from({ length: 5 }, (_, i) => `changer${i}@outlook.com`),
      ],
      allowTfvc: true,
      identityChanges,
    };
    const engine = new MiniEngine(
      emulator,
      providerConfig({
        "devops-entra-connect:devopsToken": OWNER_TOKEN,
        "devops-entra-connect:temporaryOwner": JSON.stringify(settings.temporaryOwner),
      }),
    );
    const run = async (phase: string): Promise<void> => {
      const r = await runProgram(
        emulator,
        new WorldMocks(emulator.world, engine.stack()),
        stackConfig(emulator.world, { phase, ...settings }),
      );
      await engine.apply(r.mocks.registrations);
    };

    await run("prepare");
    for (const u of emulator.world.tenant.users)
      if (u.externalUserState === "PendingAcceptance")
        emulator.redeem(u.mail ?? u.userPrincipalName);
    emulator.signIn(TEMPORARY);
    await run("connect");
    await run("resolve");
    await run("cleanup");

    const w = emulator.world;
    const byId = new Map(w.users.map((u) => [u.id ?? defaultUserId(u.principalName), u]));
    for (let i = 0; i < 150; i++) {
      const u = byId.get(defaultUserId(`changer${i}@outlook.com`));
      if (i < 5) {
        assert.equal(
          u?.origin,
          "msa",
          `changer${i}: its new identity does not exist, it stays disconnected`,
        );
      } else {
        assert.equal(u?.principalName, `changer${i}@fabrikam.com`);
        assert.equal(u?.origin, "aad");
      }
    }
    const disconnected = w.users
      .filter((u) => u.origin !== "aad")
      .map((u) => u.principalName)
      .sort();
    assert.deepEqual(
      disconnected,
      [
        ...Array.from({ length: 5 }, (_, i) => `changer${i}@outlook.com`),
        "leaver@othercompany.com",
        "olduser@fabrikam.com",
      ].sort(),
    );
    assert.equal(w.owner, "jamalhartnett@fabrikam.com");
    assert.equal(w.tenantId, TENANT);

    const mapped = emulator.mutations.filter((m) => m.kind === "mapUser");
    assert.equal(
      mapped.length,
      147,
      "145 identity changes, jamal@outlook.com and ada.lovelace@ (mail-only match), each mapped once",
    );
    assert.equal(new Set(mapped.map((m) => m.value)).size, 147);

    const final = await runProgram(
      emulator,
      new WorldMocks(w, engine.stack()),
      stackConfig(w, { phase: "cleanup", ...settings }),
      true,
    );
    const { summary } = final.outputs.migrationPlan;
    assert.equal(summary.supportTicket, 0);
    assert.equal(
      summary.acceptedHistoric,
      7,
      "accepted by name: the 5 without a target identity, the leaver and olduser",
    );
    assert.equal(summary.historic, 0);
  });
});
