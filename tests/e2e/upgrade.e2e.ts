/**
 * Upgrade: a stack the previous release left after its connect phase (`tests/fixtures/upgrade/`,
 * recorded by `scripts/record-upgrade-fixture.ts`) is imported into a fresh backend, and today's
 * code previews it on the same world with nothing to create, update, replace or delete: every
 * resource name, type token and parent was kept. Then the imported stack goes on, under today's
 * code, through resolve and cleanup as a fresh one does (`migration.e2e.ts`).
 *
 * The `it`s run in order and build on each other's state.
 */
import { strict as assert } from "node:assert";
import type { World } from "../emulator/world";
import {
  EngineError,
  type OperationOutcome,
  type PreviewOutcome,
  type Scenario,
  ensureCli,
  newScenario,
  structuredConfig,
} from "./harness";
import {
  TEMPORARY,
  UPGRADE_STACK,
  UPGRADE_TOKENS_ENV,
  type UpgradeFixture,
  loadUpgradeFixture,
} from "./upgradeFixture";

const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const INVITEES = ["dev.someone@gmail.com", "partner@othercompany.com"];
const STACK_REFERENCE = "pulumi:pulumi:StackReference";
const DYNAMIC = "pulumi-nodejs:dynamic/";

interface StateResource {
  urn: string;
  type: string;
  parent?: string;
  external?: boolean;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}
const resourcesOf = (state: { deployment: unknown }): StateResource[] =>
  (state.deployment as { resources: StateResource[] }).resources;
const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** Steps that change something, as `op name` (the engine's own provider steps left out). */
const changes = (o: Pick<OperationOutcome, "steps">): string[] =>
  o.steps
    .filter(
      (s) => !["same", "read", "refresh"].includes(s.op) && !s.type.startsWith("pulumi:providers:"),
    )
    .map((s) => `${s.op} ${s.name}`);

describe("upgrade: a stack written by the previous release, under today's code", function () {
  let scenario: Scenario;
  let recorded: UpgradeFixture;
  const world = (): World => scenario.emulator.world;
  const mutations = (): string[] => scenario.emulator.mutations.map((m) => `${m.kind} ${m.value}`);
  /** `pulumi preview --expect-no-changes`; a failure names the steps that would change something. */
  const previewNoChanges = (): Promise<PreviewOutcome> =>
    scenario.preview({ expectNoChanges: true }).catch((err: unknown) => {
      if (!(err instanceof EngineError)) throw err;
      throw new Error(`${err.message}\nproposed: ${changes(err.outcome).join(", ")}`);
    });

  before(async function () {
    this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
    await ensureCli();
    recorded = loadUpgradeFixture();
    scenario = await newScenario("upgrade", recorded.world, {
      stackName: UPGRADE_STACK,
      backendQuery: "metadata=skip",
      env: UPGRADE_TOKENS_ENV,
    });
    await scenario.importState(recorded.state);
    await scenario.setConfig(structuredConfig(recorded.config));
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

  it("previews with no changes: every recorded resource is the same; the old stack reference leaves the state", async () => {
    // --expect-no-changes: the engine itself fails the preview on any create, update, replace or delete.
    const preview = await previewNoChanges();
    const resources = resourcesOf(recorded.state);
    const managed = resources.filter((r) => r.type !== STACK_REFERENCE).map((r) => r.urn);
    const same = preview.steps.filter((s) => s.op === "same");
    assert.deepEqual(
      same.map((s) => s.urn).sort(),
      [...managed].sort(),
      "each recorded resource, by its URN (name, type token and parents), is declared again",
    );
    assert.ok(
      same.every((s) => s.result === "same" && s.diffs === undefined),
      JSON.stringify(same),
    );
    // The previous release read its own outputs through a StackReference; today's code reads its
    // resources' state. A read resource the program no longer reads is dropped from the state
    // (`read-discard`): the display shows nothing, and nothing outside the state is touched.
    const others = preview.steps.filter((s) => s.op !== "same");
    assert.deepEqual(
      others.map((s) => `${s.op} ${s.type} ${s.name}`),
      [`discard ${STACK_REFERENCE} ledger`],
    );
    assert.ok(!/\bledger\b/.test(preview.stdout), "the display does not mention it");
    // The summary leaves the default providers out.
    const counted = same.filter((s) => !s.type.startsWith("pulumi:providers:"));
    assert.deepEqual(preview.changeSummary, { same: counted.length, discard: 1 });
    assert.deepEqual(mutations(), [], "a preview changes nothing");
  });

  it("resolve maps the identity change and the mail-only match, as on a fresh stack", async () => {
    await scenario.setConfig({ phase: "resolve" });
    const up = await scenario.up();
    assert.deepEqual(changes(up).sort(), [
      "create map-ada.lovelace@fabrikam.com",
      "create map-jamal@outlook.com",
      "discard ledger",
      "update directory-connection",
    ]);
    assert.equal(
      world().users.find((u) => u.principalName === "jamal@fabrikam.com")?.origin,
      "aad",
    );
    assert.deepEqual(up.outputs.identityMappings?.value?.map((m: { to: string }) => m.to).sort(), [
      "alovelace@fabrikam.com",
      "jamal@fabrikam.com",
    ]);
    const outputs = (resourcesOf(recorded.state).find((r) => r.type === "pulumi:pulumi:Stack")
      ?.outputs ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(outputs)) {
      assert.ok(key in up.outputs, `the previous release's output ${key} is still exported`);
    }
    const state = resourcesOf(await scenario.exportState());
    assert.ok(!state.some((r) => r.type === STACK_REFERENCE), "the stack reference left the state");
    assert.deepEqual(changes(await previewNoChanges()), []);
  });

  it("the dynamic resources left unchanged keep the previous release's provider in their outputs", async () => {
    // A `same` step records the new inputs and keeps the old outputs: `__provider` in the inputs is
    // today's code, in the outputs it stays the code that created the resource. The dynamic
    // provider host deletes and reads with the outputs' `__provider`.
    const state = resourcesOf(await scenario.exportState());
    const before = new Map(resourcesOf(recorded.state).map((r) => [r.urn, r]));
    const kept = state
      .filter((r) => r.type.startsWith(DYNAMIC) && before.has(r.urn))
      .map((r) => ({
        name: nameOf(r.urn),
        inputsToday: r.inputs?.__provider !== before.get(r.urn)?.inputs?.__provider,
        outputsRecorded: r.outputs?.__provider === before.get(r.urn)?.outputs?.__provider,
      }));
    assert.deepEqual(kept, [
      { name: "temporary-owner-user", inputsToday: true, outputsRecorded: true },
      { name: "temporary-owner-ownership", inputsToday: true, outputsRecorded: true },
      // Updated in resolve: today's code wrote its outputs.
      { name: "directory-connection", inputsToday: true, outputsRecorded: false },
    ]);
  });

  it("cleanup hands ownership back, removes the temporary user and its guest, keeps the rest", async () => {
    // The hand-back and the removal are the deletes of resources the previous release created and
    // today's code left unchanged: the previous release's code runs them. Today's delete of the
    // temporary user would keep a user whose state does not say `addedByThisStack`, which the
    // previous release never recorded; the user is removed, so it is not today's code that ran.
    const user = resourcesOf(recorded.state).find((r) => nameOf(r.urn) === "temporary-owner-user");
    assert.ok(user?.outputs && !("addedByThisStack" in user.outputs));
    await scenario.setConfig({ phase: "cleanup" });
    const up = await scenario.up();
    assert.deepEqual(
      changes(up).filter((c) => c.startsWith("delete")),
      [
        "delete temporary-owner-ownership",
        "delete temporary-owner-user",
        "delete temporary-owner-invitation",
        "delete temporary-owner",
      ],
    );
    const w = world();
    assert.equal(w.owner, "jamalhartnett@fabrikam.com");
    assert.ok(!w.users.some((u) => u.principalName === TEMPORARY), "the temporary user left");
    assert.ok(!w.tenant.users.some((u) => u.mail === TEMPORARY), "its guest left the tenant");
    for (const address of INVITEES) {
      assert.ok(
        w.tenant.users.some((u) => u.mail === address),
        `${address} stays`,
      );
    }
    assert.equal(w.tenantId, TENANT);
    const made = mutations();
    assert.deepEqual(made.slice(0, 2).sort(), [
      "mapUser ada.lovelace@fabrikam.com -> alovelace@fabrikam.com",
      "mapUser jamal@outlook.com -> jamal@fabrikam.com",
    ]);
    assert.deepEqual(made.slice(2), [
      "owner jamalhartnett@fabrikam.com",
      `removeUser ${TEMPORARY}`,
    ]);
    assert.deepEqual(changes(await previewNoChanges()), []);
  });
});
