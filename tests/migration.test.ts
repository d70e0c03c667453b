import { strict as assert } from "node:assert";
import { BASE_URL_ENV } from "../devops/hosts";
import { forgetTokens } from "../providers/credentials";
import { Emulator, startEmulator } from "./emulator/server";
import type { World } from "./emulator/world";
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
  let emulator: Emulator;
  let savedBase: string | undefined;
  before(async () => {
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    emulator = await startEmulator({ world: w });
    savedBase = process.env[BASE_URL_ENV];
    process.env[BASE_URL_ENV] = emulator.url;
  });
  after(async () => {
    if (savedBase === undefined) delete process.env[BASE_URL_ENV];
    else process.env[BASE_URL_ENV] = savedBase;
    forgetTokens();
    await emulator.close();
  });

  const settings = {
    temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN },
    acceptHistoricUsers: ["olduser@fabrikam.com"],
    allowTfvc: true,
  };
  const config = (phase: string): Record<string, string> =>
    stackConfig(emulator.world, { phase, ...settings });
  let engine: MiniEngine;
  let ledger: string[] | undefined;

  /** One `pulumi up` (or preview, with dryRun) of a phase. */
  async function up(phase: string, dryRun = false): Promise<Step[]> {
    const cfg = config(phase);
    const run = await runProgram(
      emulator,
      new WorldMocks(emulator.world as World, ledger),
      cfg,
      dryRun,
    );
    const steps = await engine.apply(run.mocks.registrations, dryRun);
    if (!dryRun) ledger = run.invitedGuests;
    return steps;
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
      "create ledger",
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

  it("cleanup: hands ownership back, removes the temporary user, deletes its guest — in that order", async () => {
    const steps = await up("cleanup");
    assert.deepEqual(changed(steps), [
      "update directory-connection",
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
        `owner jamalhartnett@fabrikam.com by jamalhartnett@fabrikam.com`,
        `removeUser ${TEMPORARY} by jamalhartnett@fabrikam.com`,
      ],
      "each change made once, by the right identity",
    );
    // Every remaining user has a tenant identity, or was explicitly accepted, excluded or re-mapped.
    const final = await runProgram(emulator, new WorldMocks(w, ledger), config("cleanup"), true);
    const summary = final.outputs.migrationPlan.summary;
    assert.equal(summary.historic, 0);
    assert.equal(summary.acceptedHistoric, 1);
    assert.equal(
      summary.tenantMember +
        summary.tenantGuest +
        summary.invite +
        summary.excluded +
        summary.supportTicket +
        summary.acceptedHistoric,
      w.users.length,
    );
  });
});
