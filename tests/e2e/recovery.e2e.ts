/**
 * Failure and recovery under the real Pulumi engine: a migration of the reference world whose
 * runs fail at each point where a call can fail, then what people do (redeem the invitations, the
 * temporary account's first sign-in), then the later phases up to cleanup. Every failure must
 * converge on a re-run: no refusal loop, nothing done twice, every guest kept, the original owner
 * restored at the end.
 *
 * Two stacks, whose `it`s run in order and build on each other's state: one meets a failure at
 * each point of each phase, in turn; the other an Azure DevOps slower than the program waits.
 * Errors are answered by the emulator's faults and switches and the azuread stand-in's switches
 * (docs/test-doubles.md).
 */
import { strict as assert } from "node:assert";
import { userIdOf } from "../emulator/world";
import { GRAPH_SWITCH_ENV } from "../support/entraGraph";
import { type Scenario, ensureCli } from "./harness";
import {
  ADD_USER,
  CHANGE_OWNER,
  CONNECT,
  CONNECT_CALL,
  INVITEES,
  MIGRATION,
  OWNER,
  TEMPORARY,
  TENANT,
  assertConverged,
  changes,
  failure,
  guestsWithMail,
  mutations,
  recoveryScenario,
  redeemAndSignIn,
  setEnv,
  stateResources,
  tenantUpns,
} from "./recoveryKit";

/** Longer than anything the program waits for (its verifications read for about 30 s). */
const LONG_MS = 10 * 60 * 1000;

describe("recovery under the real engine: a first up failing at each point, then the migration to its end", function () {
  // Several engine operations per test, some waiting out a verification, on a shared machine.
  this.timeout(10 * 60 * 1000);
  let scenario: Scenario;
  let tenantBefore: string[];
  const ownerMutations = (): string[] => mutations(scenario).filter((m) => m.startsWith("owner "));

  before(async function () {
    this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
    await ensureCli();
    scenario = await recoveryScenario("recovery-faults");
    tenantBefore = tenantUpns(scenario.emulator.world.tenant.users);
  });
  after(async () => {
    await scenario?.cleanup();
  });

  it("prepare: a guest invitation throttled beyond the provider's retries fails the up; nobody is invited by it", async () => {
    // The temporary owner's invitation is throttled too, which keeps its pairing for the next
    // failure points (otherwise the engine may finish it before it stops at the first error).
    setEnv(
      scenario,
      GRAPH_SWITCH_ENV.faults,
      JSON.stringify([INVITEES[0], TEMPORARY].map((address) => ({ address, status: 429 }))),
    );
    const err = await failure(scenario.up());
    const refused = (address: string): string =>
      `Creating invitation: unexpected status 429 (429 Too Many Requests) with error: TooManyRequests: Injected fault: Graph answers 429 to the invitation of ${address}.`;
    // The engine starts no new step after the first failure: each throttled invitation was
    // refused, or never sent, depending on the order the engine ran them in; one of them failed.
    const steps: [string, string][] = [
      [INVITEES[0], `guests-${INVITEES[0]}`],
      [TEMPORARY, "temporary-owner-invitation"],
    ];
    const started = steps.filter(([, name]) => err.outcome.steps.some((s) => s.name === name));
    assert.ok(started.length > 0, err.message);
    for (const [address, name] of steps) {
      assert.equal(
        err.message.includes(refused(address)),
        started.some(([, n]) => n === name),
        err.message,
      );
    }
    for (const address of [INVITEES[0], TEMPORARY]) {
      assert.deepEqual(guestsWithMail(scenario, address), [], `${address} was not invited`);
    }
    assert.deepEqual(mutations(scenario), [], "nothing was added to the organization");
    assert.ok(guestsWithMail(scenario, INVITEES[1]).length <= 1);
  });

  it("prepare: an inviter without user-write rights fails the temporary owner's invitation after Graph made its guest", async () => {
    setEnv(scenario, GRAPH_SWITCH_ENV.faults, undefined);
    setEnv(scenario, GRAPH_SWITCH_ENV.inviterCanWriteUsers, "false");
    const err = await failure(scenario.up());
    assert.match(
      err.message,
      /Failed to patch guest user \(1\) after creating invitation: .*Authorization_RequestDenied/,
    );
    assert.equal(guestsWithMail(scenario, TEMPORARY).length, 1, "its guest exists all the same");
    const state = await stateResources(scenario);
    assert.ok(
      state.get("temporary-owner-invitation")?.initErrors?.length,
      "the engine keeps the invitation, marked as not initialized",
    );
    assert.equal(state.has("temporary-owner-user"), false, "the user was not added");
    assert.deepEqual(mutations(scenario), []);
  });

  it("prepare: the user add refused before its commit, beyond the retries, fails the up; nothing is added", async () => {
    setEnv(scenario, GRAPH_SWITCH_ENV.inviterCanWriteUsers, undefined);
    scenario.emulator.injectFault({ ...ADD_USER, status: 429, retryAfter: 1, times: 6 });
    const err = await failure(scenario.up());
    assert.match(
      err.message,
      /add user fabrikam-migration@outlook\.com \(POST [^)]*\) failed with HTTP 429: TF400733: [^\n]*\(gave up after 6 attempts\)/,
    );
    assert.deepEqual(mutations(scenario), []);
    assert.equal(guestsWithMail(scenario, TEMPORARY).length, 1, "the guest was not invited twice");
  });

  it("prepare: the user add's answer lost after its commit: the same up adopts the user it added", async () => {
    scenario.emulator.injectFault({ ...ADD_USER, afterCommit: true, drop: true });
    const up = await scenario.up();
    assert.ok(changes(up).includes("create temporary-owner-user"), changes(up).join("\n"));
    assert.deepEqual(mutations(scenario), [`addUser ${TEMPORARY}`], "added once");
    const adds = scenario.emulator.requests
      .filter((r) => r.method === ADD_USER.method && r.path.endsWith(ADD_USER.path))
      .map((r) => (r.dropped ? "dropped" : r.status));
    // The retry meets "already exists" (HTTP 200, isSuccess:false): the user is found and adopted.
    assert.deepEqual(adds, [429, 429, 429, 429, 429, 429, "dropped", 200]);
    for (const address of [...INVITEES, TEMPORARY]) {
      assert.equal(guestsWithMail(scenario, address).length, 1, `${address} invited once`);
    }
  });

  it("connect: the owner change refused before its commit, beyond the retries, fails the up; nothing is connected", async () => {
    await scenario.setConfig(CONNECT);
    redeemAndSignIn(scenario);
    scenario.emulator.injectFault({ ...CHANGE_OWNER, status: 429, retryAfter: 1, times: 6 });
    const err = await failure(scenario.up());
    assert.match(
      err.message,
      /change owner to \S+ .*failed with HTTP 429: TF400733: .*\(gave up after 6 attempts\)/,
    );
    assert.equal(scenario.emulator.world.owner, OWNER);
    assert.equal(scenario.emulator.world.tenantId, null);
    assert.deepEqual(ownerMutations(), []);
  });

  it("connect: an owner change accepted but never made fails the up after its verification; nothing is connected", async () => {
    scenario.emulator.behaviour = { ownerChange: "ignored" };
    const err = await failure(scenario.up());
    assert.match(
      err.message,
      /the owner change: the organization fabrikam still reports owner \S+ instead of \S+ after the change; check Organization settings → Overview, change the owner there if needed, then run again\./,
    );
    assert.equal(scenario.emulator.world.owner, OWNER);
    assert.equal(scenario.emulator.world.tenantId, null, "no connection without the ownership");
    assert.deepEqual(ownerMutations(), [`owner ${TEMPORARY}`], "Azure DevOps accepted it");
  });

  it("connect: answers lost after the owner change and after the connect call, and a late tenant header: the same up recovers", async () => {
    scenario.emulator.behaviour = { ownerChange: "immediate", tenantHeader: "late" };
    scenario.emulator.injectFault({ ...CHANGE_OWNER, status: 500, afterCommit: true });
    scenario.emulator.injectFault({ ...CONNECT_CALL, status: 500, afterCommit: true });
    const up = await scenario.up();
    assert.ok(changes(up).includes("create directory-connection"), changes(up).join("\n"));
    assert.equal(scenario.emulator.world.owner, TEMPORARY);
    assert.equal(scenario.emulator.world.tenantId, TENANT);
    // Setting the owner is repeatable: its retry sets it again. The connect call's retry meets
    // "already connected", which the provider reads as done: connected once.
    assert.deepEqual(ownerMutations(), Array(3).fill(`owner ${TEMPORARY}`));
    assert.deepEqual(
      mutations(scenario).filter((m) => m.startsWith("tenant ")),
      [`tenant ${TENANT}`],
    );
    assert.deepEqual(changes(await scenario.preview()), []);
  });

  it("resolve maps the users once", async () => {
    scenario.emulator.behaviour = { tenantHeader: "present" };
    await scenario.setConfig({ phase: "resolve" });
    await scenario.up();
    assert.equal(mutations(scenario).filter((m) => m.startsWith("mapUser ")).length, 2);
  });

  it("cleanup: a hand-back answered 200 that changes nothing fails before the temporary user is removed", async () => {
    scenario.emulator.behaviour = { ownerChange: "ignored" };
    await scenario.setConfig({ phase: "cleanup" });
    const err = await failure(scenario.up());
    assert.match(
      err.message,
      /handing ownership back: the organization fabrikam still reports owner \S+ instead of \S+ after the change/,
    );
    const w = scenario.emulator.world;
    assert.equal(w.owner, TEMPORARY);
    assert.ok(
      w.users.some((u) => u.principalName.toLowerCase() === TEMPORARY),
      "still a user",
    );
    assert.equal(guestsWithMail(scenario, TEMPORARY).length, 1, "still a guest");
    assert.ok(!mutations(scenario).some((m) => m.startsWith("removeUser")));
    const state = await stateResources(scenario);
    for (const name of [
      "temporary-owner-ownership",
      "temporary-owner-user",
      "temporary-owner-invitation",
    ]) {
      assert.ok(state.has(name), `${name} is still in the state`);
    }
  });

  it("cleanup, once owner changes work again, converges: ownership back, the temporary account gone, every guest kept", async () => {
    scenario.emulator.behaviour = { ownerChange: "immediate" };
    await scenario.up();
    await assertConverged(scenario, tenantBefore, [
      ...MIGRATION,
      `owner ${TEMPORARY}`, // accepted but never made
      `owner ${TEMPORARY}`, // the retry after the lost answer
      `owner ${OWNER}`, // the hand-back accepted but never made
    ]);
  });
});

describe("recovery under the real engine: Azure DevOps slower than the program waits", function () {
  // Several engine operations per test, some waiting out a verification, on a shared machine.
  this.timeout(10 * 60 * 1000);
  let scenario: Scenario;
  let tenantBefore: string[];

  before(async function () {
    this.timeout(45 * 60 * 1000);
    await ensureCli();
    scenario = await recoveryScenario("recovery-slow");
    tenantBefore = tenantUpns(scenario.emulator.world.tenant.users);
  });
  after(async () => {
    await scenario?.cleanup();
  });

  it("prepare: the user add answered 500 after its commit: the same up adopts the user it added", async () => {
    scenario.emulator.injectFault({ ...ADD_USER, status: 500, afterCommit: true });
    await scenario.up();
    assert.deepEqual(mutations(scenario), [`addUser ${TEMPORARY}`]);
  });

  it("connect: an owner change Azure DevOps makes later than the verification waits fails the up", async () => {
    await scenario.setConfig(CONNECT);
    redeemAndSignIn(scenario);
    scenario.emulator.behaviour = { ownerChange: "delayed", ownerChangeDelayMs: LONG_MS };
    const err = await failure(scenario.up());
    assert.match(
      err.message,
      /the owner change: the organization fabrikam still reports owner \S+ instead of \S+/,
    );
    assert.equal(scenario.emulator.world.owner, OWNER);
    assert.equal(scenario.emulator.world.tenantId, null);
  });

  it("connect, once the owner change landed: the ownership is taken over; a connection reported later than the verification waits fails the up", async () => {
    scenario.emulator.behaviour = { ownerChange: "immediate", connectionPropagationMs: LONG_MS };
    scenario.emulator.advanceClock(LONG_MS);
    const err = await failure(scenario.up());
    assert.match(
      err.message,
      /The organization fabrikam was connected to 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b, but it still reports no tenant/,
    );
    assert.equal(scenario.emulator.world.owner, TEMPORARY, "the late change landed");
    assert.equal(scenario.emulator.world.tenantId, TENANT, "the connection is made");
    const state = await stateResources(scenario);
    const owner = scenario.emulator.world.users.find((u) => u.principalName === OWNER);
    assert.equal(
      state.get("temporary-owner-ownership")?.outputs?.previousOwnerId,
      owner && userIdOf(owner),
      "the stack records the change it took over, and who gets ownership back",
    );
    assert.deepEqual(
      mutations(scenario),
      [`addUser ${TEMPORARY}`, `owner ${TEMPORARY}`, `tenant ${TENANT}`],
      "the owner was not changed a second time",
    );
  });

  it("connect, once Azure DevOps reports the connection: the connection is taken over, not made again", async () => {
    scenario.emulator.advanceClock(LONG_MS);
    const up = await scenario.up();
    assert.ok(changes(up).includes("create directory-connection"), changes(up).join("\n"));
    assert.equal(mutations(scenario).filter((m) => m.startsWith("tenant ")).length, 1);
  });

  it("resolve and cleanup converge: ownership back, the temporary account gone, every guest kept", async () => {
    scenario.emulator.behaviour = { connectionPropagationMs: 0 };
    await scenario.setConfig({ phase: "resolve" });
    await scenario.up();
    await scenario.setConfig({ phase: "cleanup" });
    await scenario.up();
    await assertConverged(scenario, tenantBefore, MIGRATION);
  });
});
