import { strict as assert } from "node:assert";
import type { Emulator } from "./emulator/server";
import { useEmulator } from "./support/emulatorEnv";
import { providerConfig } from "./support/engineLike";
import { MiniEngine } from "./support/miniEngine";
import {
  OWNER_TOKEN,
  TEMPORARY_TOKEN,
  fixture,
  runProgram,
  stackConfig,
} from "./support/programRun";
import { WorldMocks } from "./support/worldMocks";

const TEMPORARY = "fabrikam-migration@outlook.com";

/**
 * The real azuread provider rewrites an invitation's `userEmailAddress` from the user's mail on
 * every read, every input of an invitation forces a replacement, a replacement deletes the user,
 * and deleting a user already gone fails. None of this may cost a guest, nor block the cleanup.
 */
describe("invitation-side drift against the provider's real lifecycle", () => {
  const env = useEmulator(() => {
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    return w;
  }, "each");
  let emulator: Emulator;
  let engine: MiniEngine;
  const settings = {
    temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN },
    excludeUsers: [],
    acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
    allowTfvc: true,
  };
  beforeEach(() => {
    emulator = env.emulator;
    engine = new MiniEngine(
      emulator,
      providerConfig({
        "devops-entra-connect:devopsToken": OWNER_TOKEN,
        "devops-entra-connect:temporaryOwner": JSON.stringify(settings.temporaryOwner),
      }),
    );
  });
  const up = async (phase: string): Promise<string[]> => {
    const run = await runProgram(
      emulator,
      new WorldMocks(emulator.world, engine.stack()),
      stackConfig(emulator.world, { phase, ...settings }),
    );
    const steps = await engine.apply(run.mocks.registrations);
    return steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
  };
  const tenantUser = (mail: string) =>
    emulator.world.tenant.users.find((u) => u.mail?.toLowerCase() === mail.toLowerCase());

  it("a refresh after the invitees' mails changed replaces nothing, and every guest stays", async () => {
    await up("prepare");
    for (const mail of [TEMPORARY, "partner@othercompany.com"]) {
      const user = tenantUser(mail);
      assert.ok(user);
      user.mail = mail.replace(/^./, (c) => c.toUpperCase()); // Graph now stores another form
    }
    const refreshed = await engine.refreshInvitations();
    assert.deepEqual(refreshed.sort(), [
      "guests-partner@othercompany.com",
      "temporary-owner-invitation",
    ]);
    // The mini engine fails the test on any replacement; none is planned.
    assert.deepEqual(await up("prepare"), []);
    assert.ok(tenantUser(TEMPORARY), "the temporary owner's guest is still in the tenant");
    assert.ok(tenantUser("partner@othercompany.com"), "the invited guest is still in the tenant");
  });

  it("cleanup converges after someone deleted the temporary guest by hand: forgotten, not deleted", async () => {
    await up("prepare");
    for (const a of [TEMPORARY, "partner@othercompany.com", "dev.someone@gmail.com"]) {
      emulator.redeem(a);
    }
    emulator.signIn(TEMPORARY);
    await up("connect");
    await up("resolve");
    emulator.removeTenantUser(tenantUser(TEMPORARY)!.userPrincipalName);
    // First run: ownership back, the user removed; the invitation is kept, retained on delete.
    assert.deepEqual(await up("cleanup"), [
      "delete temporary-owner-ownership",
      "delete temporary-owner-user",
    ]);
    assert.equal(emulator.world.owner, "jamalhartnett@fabrikam.com");
    assert.ok(!emulator.world.users.some((u) => u.principalName === TEMPORARY));
    // Second run: the invitation leaves the state without a call that would fail.
    assert.deepEqual(await up("cleanup"), [
      "delete temporary-owner-invitation",
      "delete temporary-owner",
    ]);
    assert.deepEqual(await up("cleanup"), [], "nothing left to do");
  });
});
