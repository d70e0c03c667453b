/**
 * The whole migration under each setting of the emulator's load-bearing guesses
 * (docs/test-doubles.md, "Switches"): whichever way Azure DevOps turns out to behave, the program
 * ends where it must — the organization on the tenant, the original owner back, the temporary
 * account gone, every guest kept, every user bound to the intended identity or accepted by name,
 * each change made once — or it stops before the irreversible step with a message that says what to
 * do, and the next run converges once that is done.
 *
 * Failure and recovery inside a provider are tested under the real engine (tests/e2e/); here the
 * settings that change what the program reads and plans.
 */
import { strict as assert } from "node:assert";
import type { Behaviour } from "./emulator/behaviour";
import type { Emulator } from "./emulator/server";
import type { World } from "./emulator/world";
import { useEmulator } from "./support/emulatorEnv";
import { providerConfig } from "./support/engineLike";
import { MiniEngine, type Step } from "./support/miniEngine";
import {
  OWNER_TOKEN,
  TEMPORARY_TOKEN,
  fixture,
  runProgram,
  stackConfig,
} from "./support/programRun";
import { WorldMocks } from "./support/worldMocks";

const TEMPORARY = "fabrikam-migration@outlook.com";
const OWNER = "jamalhartnett@fabrikam.com";
const INVITEES = ["partner@othercompany.com", "dev.someone@gmail.com"];
const SETTINGS = {
  temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN },
  excludeUsers: [],
  acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
  allowTfvc: true,
};

type Phase = "prepare" | "connect" | "resolve" | "cleanup";

/** One migration on its own emulator and engine, phase by phase. */
function migration(behaviour: Partial<Behaviour>) {
  const env = useEmulator(() => {
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: OWNER, [TEMPORARY_TOKEN]: TEMPORARY };
    w.behaviour = behaviour;
    return w;
  }, "each");
  const state = {
    engine: undefined as unknown as MiniEngine,
    ownerToken: OWNER_TOKEN,
    temporaryToken: TEMPORARY_TOKEN,
  };
  const temporaryOwner = () => ({ msaEmail: TEMPORARY, devopsToken: state.temporaryToken });
  // The stack config the dynamic providers are configured with at each apply, as the engine does.
  const providerValues: Record<string, string> = {
    "devops-entra-connect:organization": "fabrikam",
    "devops-entra-connect:devopsToken": OWNER_TOKEN,
    "devops-entra-connect:temporaryOwner": JSON.stringify(temporaryOwner()),
  };
  const emulator = (): Emulator => env.emulator;
  const config = (phase: Phase): Record<string, string> =>
    stackConfig(emulator().world, {
      phase,
      ...SETTINGS,
      devopsToken: state.ownerToken,
      temporaryOwner: temporaryOwner(),
    });

  async function up(phase: Phase): Promise<Step[]> {
    const run = await runProgram(
      emulator(),
      new WorldMocks(emulator().world as World, state.engine.stack()),
      config(phase),
    );
    return state.engine.apply(run.mocks.registrations);
  }
  async function preview(phase: Phase): Promise<string[]> {
    const run = await runProgram(
      emulator(),
      new WorldMocks(emulator().world as World, state.engine.stack()),
      config(phase),
      true,
    );
    const steps = await state.engine.apply(run.mocks.registrations, true);
    return steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
  }
  /** What the people do between prepare and connect: redeem, and the first sign-in. */
  function humansAct(): void {
    for (const address of [TEMPORARY, ...INVITEES]) emulator().redeem(address);
    emulator().signIn(TEMPORARY);
  }
  return {
    emulator,
    up,
    preview,
    humansAct,
    /**
     * New PATs for both people, as they create them after the connection: their sign-in is now
     * the tenant's, and the tokens of their Microsoft accounts may have stopped working.
     */
    reissueTokens(): void {
      const w = emulator().world;
      state.ownerToken = `reissued-${state.ownerToken}`;
      state.temporaryToken = `reissued-${state.temporaryToken}`;
      const owner = w.owner === TEMPORARY ? OWNER : w.owner;
      w.tokens = { ...w.tokens, [state.ownerToken]: owner, [state.temporaryToken]: TEMPORARY };
      providerValues["devops-entra-connect:devopsToken"] = state.ownerToken;
      providerValues["devops-entra-connect:temporaryOwner"] = JSON.stringify(temporaryOwner());
    },
    start(): void {
      state.engine = new MiniEngine(emulator(), providerConfig(providerValues));
    },
  };
}

/** Where every migration must end, whatever the setting. */
function assertMigrated(emulator: Emulator): void {
  const w = emulator.world;
  assert.equal(w.tenantId, w.tenant.id, "connected to the tenant");
  assert.equal(w.owner.toLowerCase(), OWNER, "the original owner is back");
  assert.ok(!w.users.some((u) => u.principalName === TEMPORARY), "temporary user removed");
  assert.ok(!w.tenant.users.some((u) => u.mail === TEMPORARY), "temporary guest deleted");
  for (const address of INVITEES) {
    assert.equal(w.tenant.users.filter((u) => u.mail === address).length, 1, `${address} kept`);
  }
  const bound = (name: string) => w.users.find((u) => u.principalName === name);
  assert.equal(bound("alovelace@fabrikam.com")?.origin, "aad", "ada is her member");
  assert.equal(bound("jamal@fabrikam.com")?.origin, "aad", "jamal@outlook.com changed identity");
  assert.deepEqual(
    w.users
      .filter((u) => u.origin !== "aad")
      .map((u) => u.principalName)
      .sort(),
    ["leaver@othercompany.com", "olduser@fabrikam.com"],
    "only the users accepted by name are left on their Microsoft accounts",
  );
  const kinds = emulator.mutations.map((m) => `${m.kind} ${m.value}`);
  assert.equal(new Set(kinds).size, kinds.length, `each change made once: ${kinds.join(", ")}`);
  assert.deepEqual(
    emulator.mutations.filter((m) => m.kind === "removeUser").map((m) => m.value),
    [TEMPORARY],
    "nobody but the temporary account left the organization",
  );
}

/** A whole migration in which every phase applies at the first attempt. */
async function straight(m: ReturnType<typeof migration>): Promise<void> {
  m.start();
  await m.up("prepare");
  m.humansAct();
  await m.up("connect");
  await m.up("resolve");
  await m.up("cleanup");
  assert.deepEqual(await m.preview("cleanup"), [], "nothing left to do");
  assertMigrated(m.emulator());
}

/** Settings under which the program needs no help: it converges at the first attempt. */
const CONVERGING: [string, Partial<Behaviour>][] = [
  ["connect binds by mail too (connectBinding upnOrMail)", { connectBinding: "upnOrMail" }],
  ["connect accepts an owner's MSA twin (msaTwinRefusal false)", { msaTwinRefusal: false }],
  ["a mapping answers 200 without Location (mappingStatus 200)", { mappingStatus: 200 }],
  ["the service refuses to scrub a holder (mappingHolder refuse)", { mappingHolder: "refuse" }],
  ["a mapping onto itself succeeds (mappingToItself accept)", { mappingToItself: "accept" }],
  ["an owner change shows a second late (ownerChange delayed)", { ownerChange: "delayed" }],
  ["no resource-tenant header at all (tenantHeader absent)", { tenantHeader: "absent" }],
  ["the header only after a while (tenantHeader late)", { tenantHeader: "late" }],
  [
    "an authenticated HEAD is challenged (authenticatedHead challenge)",
    { authenticatedHead: "challenge" },
  ],
  ["a refused token is a redirect (refusedCredential redirect)", { refusedCredential: "redirect" }],
  ["the profile takes any token (profileTokens any)", { profileTokens: "any" }],
  ["Any owner may disconnect (disconnect ownerOnly)", { disconnect: "ownerOnly" }],
  ["External guest access is off (externalGuestAccess false)", { externalGuestAccess: false }],
];

describe("the whole migration under each setting of the emulator's guesses", () => {
  for (const [name, behaviour] of CONVERGING) {
    describe(name, () => {
      const m = migration(behaviour);
      it("ends migrated: connected, the owner back, nobody lost, each change once", async function () {
        this.timeout(120_000);
        await straight(m);
      });
    });
  }

  describe("a mapping shows late (mappingVisibilityMs)", () => {
    const m = migration({ mappingVisibilityMs: 2_000 });
    it("resolve waits for the binding to show, and ends migrated", async function () {
      this.timeout(120_000);
      await straight(m);
    });
  });

  describe("Microsoft-account tokens stop working at the connection (msaTokensAfterConnect revoke)", () => {
    const m = migration({ msaTokensAfterConnect: "revoke" });
    it("connect connects, then fails reading it back, saying the token was not accepted; with reissued tokens it converges", async function () {
      this.timeout(120_000);
      m.start();
      await m.up("prepare");
      m.humansAct();
      await assert.rejects(
        m.up("connect"),
        /was sent to tenant .*, but reading it back was refused: .*the credential was not accepted.*create new tokens signed in with the Entra identities/s,
      );
      assert.equal(m.emulator().world.tenantId, m.emulator().world.tenant.id, "it is connected");
      // Every run now stops at the inventory, before any change, until the tokens are reissued.
      const before = m.emulator().mutations.length;
      await assert.rejects(
        m.up("connect"),
        /Inventory failed; nothing was changed\..*the credential was not accepted.*\nOnce the organization is connected, a personal access token issued to a Microsoft account can stop working: sign in to Azure DevOps with the Entra identity, create a new token/s,
      );
      assert.equal(m.emulator().mutations.length, before);
      m.reissueTokens();
      await m.up("connect");
      await m.up("resolve");
      await m.up("cleanup");
      assertMigrated(m.emulator());
    });
  });

  describe("Entra changes reach Azure DevOps late (entraPropagationMs)", () => {
    const m = migration({ entraPropagationMs: 3_600_000 });
    it("connect does not go ahead while Azure DevOps still sees the invitation pending; an hour later it ends migrated", async function () {
      this.timeout(120_000);
      m.start();
      await m.up("prepare");
      m.humansAct();
      await assert.rejects(
        m.up("connect"),
        /HTTP 403: Only active members of the AAD tenant are allowed to perform the link.*Nothing was connected\. Azure DevOps can take up to an hour to see a change made in Entra/s,
      );
      assert.equal(m.emulator().world.tenantId, null, "not connected");
      m.emulator().advanceClock(3_600_000);
      await m.up("connect");
      await m.up("resolve");
      await m.up("cleanup");
      assertMigrated(m.emulator());
    });
  });
});
