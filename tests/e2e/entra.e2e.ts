/**
 * The azuread stand-in's switches under the real Pulumi engine (docs/test-doubles.md): Entra
 * replicating a new guest slowly, and an inviter that may invite but not write users, which the
 * real provider needs for its companyName PATCH. The prepare phase of the reference world.
 *
 * The `it`s run in order on one stack.
 */
import { strict as assert } from "node:assert";
import type { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { World } from "../emulator/world";
import { REPLICATION_RETRY_BUDGET } from "../support/entraGraph";
import { OWNER_TOKEN, fixture, stackConfig } from "../support/programRun";
import { type Scenario, ensureCli, newScenario, structuredConfig } from "./harness";
import { GRAPH_SWITCH_ENV } from "./standins/azureadProvider";

const INVITATION = "azuread:index/invitation:Invitation";
const NEWCOMER = "newcomer@example.org";

describe("Entra as the real provider meets it, under the real Pulumi engine", function () {
  let scenario: Scenario;
  const world = (): World => scenario.emulator.world;
  const guestsWithMail = (mail: string) =>
    world().tenant.users.filter((u) => u.mail?.toLowerCase() === mail);
  /** Sets (or, with undefined, clears) an env var of the next CLI runs, hence of the plugins. */
  const setEnv = (key: string, value: string | undefined): void => {
    const vars = (scenario.stack.workspace as LocalWorkspace).envVars;
    if (value === undefined) delete vars[key];
    else vars[key] = value;
  };

  before(async function () {
    this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
    await ensureCli();
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com" };
    scenario = await newScenario("entra", w, {
      backendQuery: "metadata=skip",
      env: { [GRAPH_SWITCH_ENV.replicationLag]: String(REPLICATION_RETRY_BUDGET) },
    });
    await scenario.setConfig(structuredConfig(stackConfig(w)));
  });
  after(async () => {
    await scenario?.cleanup();
  });

  it("new guests that Entra replicates slowly are invited once the provider's retries find them", async () => {
    const up = await scenario.up();
    assert.equal(up.steps.filter((s) => s.type === INVITATION && s.op === "create").length, 2);
    for (const address of ["dev.someone@gmail.com", "partner@othercompany.com"]) {
      assert.deepEqual(
        guestsWithMail(address).map((u) => u.externalUserState),
        ["PendingAcceptance"],
        address,
      );
    }
  });

  it("an inviter without user-write rights fails the up with the provider's error, after Graph made the guest", async () => {
    setEnv(GRAPH_SWITCH_ENV.replicationLag, undefined);
    setEnv(GRAPH_SWITCH_ENV.inviterCanWriteUsers, "false");
    world().users.push({ principalName: NEWCOMER, origin: "msa" });
    await assert.rejects(
      scenario.up(),
      /Failed to patch guest user \(1\) after creating invitation: .*Authorization_RequestDenied: Insufficient privileges to complete the operation\./s,
    );
    assert.equal(guestsWithMail(NEWCOMER).length, 1, "the invitation was sent all the same");
    const state = (await scenario.exportState()).deployment as {
      resources: { type: string; urn: string; initErrors?: string[] }[];
    };
    const kept = state.resources.find((r) => r.type === INVITATION && r.urn.endsWith(NEWCOMER));
    assert.ok(
      kept?.initErrors?.length,
      "the engine keeps the invitation, marked as not initialized",
    );
  });

  it("with the rights granted, the next up succeeds and nobody is invited twice", async () => {
    setEnv(GRAPH_SWITCH_ENV.inviterCanWriteUsers, undefined);
    await scenario.up();
    assert.equal(guestsWithMail(NEWCOMER).length, 1);
    for (const address of ["dev.someone@gmail.com", "partner@othercompany.com"]) {
      assert.equal(guestsWithMail(address).length, 1, address);
    }
  });
});
