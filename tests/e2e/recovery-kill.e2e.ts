/**
 * A `pulumi up` killed (SIGKILL) right after Azure DevOps committed the owner change, under the
 * real Pulumi engine (CLI 3.276.0) on a `file://` backend, then what the operator must do.
 *
 * What the engine leaves behind, as these tests find it:
 * - The stack stays locked (`.pulumi/locks/…` in the backend): every later update fails with
 *   "the stack is currently locked by 1 lock(s) … delete the lock file with `pulumi cancel`";
 *   a preview takes no lock and still runs. `pulumi cancel` removes the lock on this backend.
 * - The checkpoint holds the interrupted step as a pending operation ("creating
 *   temporary-owner-ownership") and no resource for it: the engine journals a step before it
 *   starts it, and its result never came back. Every later `up` warns ("1 pending operations from
 *   previous deployment … interrupted while creating") and runs anyway; a non-interactive
 *   `pulumi refresh` keeps the pending operation, and so did three successful `up`s in a trial
 *   run. `pulumi refresh --clear-pending-creates` (or an interactive refresh) drops it. Importing
 *   it instead (`--import-pending-creates`) is no option here: the ownership's read needs the
 *   inputs a create records (providers/organizationOwner.ts), and an import has only the id.
 * - The CLI's plugins (the language host, the program, the dynamic provider) outlive it, and may
 *   finish a call in flight; the test ends them with the CLI, as the end of a CI job would.
 *
 * So the operator runs `pulumi cancel`, `pulumi refresh --clear-pending-creates`, then `pulumi up`
 * in the phase they were in; the program itself finds the owner change the state does not hold
 * (plan/guards.ts): the connect and resolve phases take it over, the others refuse and say how to
 * hand ownership back. The `it`s run in order on one stack.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import type { RecordedRequest } from "../emulator/server";
import { EngineError, type Scenario, ensureCli } from "./harness";
import {
  CONNECT,
  CONNECT_CALL,
  MIGRATION,
  OWNER,
  TEMPORARY,
  assertConverged,
  mutations,
  recoveryScenario,
  failure,
  redeemAndSignIn,
  stateResources,
  tenantUpns,
} from "./recoveryKit";

/** The process ids under `root` (itself included), from the process table. */
function processTree(root: number): number[] {
  const table = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number));
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of table) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

describe("recovery under the real engine: the CLI killed right after the owner change", function () {
  // Several engine operations per test, some waiting out a verification, on a shared machine.
  this.timeout(10 * 60 * 1000);
  let scenario: Scenario;
  let tenantBefore: string[];
  /** The stack name is unique to this process: `pgrep -f` finds this run's CLI, no other. */
  const stackName = `dec-e2e-recovery-kill-${process.pid}`;
  let armed = false;
  const killed: number[] = [];

  /** Kills the `pulumi up` of this stack when the emulator has committed an owner change. */
  function killOnOwnerChange(r: RecordedRequest): void {
    if (!armed || r.method !== "PATCH" || !/Collections\/Me$/i.test(r.path) || r.status !== 200) {
      return;
    }
    armed = false;
    // Called after the service committed the change and before the answer is sent: the engine
    // can never learn that the change was made.
    const cli = execFileSync("pgrep", ["-f", `pulumi up .*--stack ${stackName}( |$)`], {
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .map(Number);
    assert.equal(cli.length, 1, `one CLI process: ${cli.join(", ")}`);
    // The CLI's plugins (language host, program, dynamic provider) outlive a killed CLI: end them
    // too, as the end of a CI job would.
    const tree = processTree(cli[0]);
    for (const pid of tree) process.kill(pid, "SIGKILL");
    killed.push(...tree);
  }

  before(async function () {
    this.timeout(45 * 60 * 1000);
    await ensureCli();
    scenario = await recoveryScenario("recovery-kill", { stackName, onRequest: killOnOwnerChange });
    tenantBefore = tenantUpns(scenario.emulator.world.tenant.users);
    await scenario.up(); // prepare
    await scenario.setConfig(CONNECT);
    redeemAndSignIn(scenario);
  });
  after(async () => {
    await scenario?.cleanup();
  });

  const pendingOperations = async (): Promise<string[]> => {
    const state = (await scenario.exportState()).deployment as {
      pending_operations?: { type: string; resource: { urn: string } }[];
    };
    return (state.pending_operations ?? []).map(
      (o) => `${o.type} ${o.resource.urn.slice(o.resource.urn.lastIndexOf("::") + 2)}`,
    );
  };

  const resourceNames = async (): Promise<string[]> =>
    [...(await stateResources(scenario)).keys()].sort();

  it("connect: the CLI killed right after the owner change leaves the stack locked, the change unrecorded and its create pending", async () => {
    armed = true;
    await assert.rejects(scenario.up(), EngineError);
    assert.ok(killed.length >= 1, "the CLI was found and killed");
    assert.equal(scenario.emulator.world.owner, TEMPORARY, "Azure DevOps made the change");
    assert.equal(scenario.emulator.world.tenantId, null);
    assert.deepEqual(mutations(scenario), [`addUser ${TEMPORARY}`, `owner ${TEMPORARY}`]);
    // The engine journals a step before it starts it: the checkpoint keeps the create as pending
    // and no resource for it.
    assert.deepEqual(await pendingOperations(), ["creating temporary-owner-ownership"]);
    assert.ok(!(await resourceNames()).includes("temporary-owner-ownership"));
    // A killed CLI never releases the file backend's lock: every update is refused (a preview,
    // which takes no lock, still runs).
    await assert.rejects(
      scenario.up(),
      /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`/,
    );
  });

  it("after `pulumi cancel`, prepare and cleanup refuse with instructions and change nothing; `pulumi refresh --clear-pending-creates` drops the pending create", async () => {
    await scenario.stack.cancel(); // `pulumi cancel`: removes the lock file
    const resources = await resourceNames();
    await scenario.setConfig({ phase: "prepare" });
    const prepare = await failure(scenario.up());
    assert.match(
      prepare.message,
      /The prepare phase is refused, and nothing was changed:\n {2}- The organization is owned by the temporary account fabrikam-migration@outlook\.com, but this stack holds no record of that change \(an interrupted run, or an owner change Azure DevOps applied late\), so the prepare phase would not hand it back\. Hand ownership back in the portal \(Organization settings → Overview → Owner\) to jamalhartnett@fabrikam\.com, then run again; or set devops-entra-connect:phase back to connect and run again, which takes the change over so that cleanup hands it back\./,
    );
    // The engine warns on every run while the create is pending, and runs the program anyway.
    assert.match(prepare.outcome.stdout, /1 pending operations from previous deployment/);
    assert.match(prepare.outcome.stdout, /temporary-owner-ownership, interrupted while creating/);

    // A non-interactive refresh keeps pending creates; `--clear-pending-creates` drops them.
    await scenario.refresh();
    assert.deepEqual(await pendingOperations(), ["creating temporary-owner-ownership"]);
    await scenario.stack.refresh({ clearPendingCreates: true });
    assert.deepEqual(await pendingOperations(), []);

    await scenario.setConfig({ phase: "cleanup" });
    const cleanup = await failure(scenario.up());
    assert.match(cleanup.message, /The cleanup phase is refused, and nothing was changed:/);
    assert.match(
      cleanup.message,
      /owned by the temporary account fabrikam-migration@outlook\.com, but this stack holds no record of that change .*so the cleanup phase would not hand it back\. Hand ownership back in the portal \(Organization settings → Overview → Owner\) to jamalhartnett@fabrikam\.com, then run again/,
    );
    assert.deepEqual(mutations(scenario), [`addUser ${TEMPORARY}`, `owner ${TEMPORARY}`]);
    assert.equal(scenario.emulator.world.owner, TEMPORARY);
    assert.deepEqual(await resourceNames(), resources, "the state holds what it held");
  });

  it("with ownership handed back in the portal, connect (its answer lost, no tenant header), resolve and cleanup converge", async () => {
    scenario.emulator.world.owner = OWNER; // what the instructions ask, done in the portal
    scenario.emulator.behaviour = { tenantHeader: "absent" };
    scenario.emulator.injectFault({ ...CONNECT_CALL, afterCommit: true, drop: true });
    await scenario.setConfig(CONNECT);
    await scenario.up();
    await scenario.setConfig({ phase: "resolve" });
    await scenario.up();
    await scenario.setConfig({ phase: "cleanup" });
    await scenario.up();
    await assertConverged(scenario, tenantBefore, [
      ...MIGRATION,
      `owner ${TEMPORARY}`, // the killed run's, handed back in the portal
    ]);
  });
});
