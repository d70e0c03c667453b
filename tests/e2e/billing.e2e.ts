/**
 * Billing under the real Pulumi engine: the reference world, billed by an Azure subscription in a
 * directory other than the target tenant. The preview warns with both fixes; `up` applies the
 * prepare phase as usual and its outputs (migrationPlan, report, manualSteps) carry the warning.
 *
 * The `it`s run in order on one stack.
 */
import { strict as assert } from "node:assert";
import { BILLING_LINKS } from "../../plan/billing";
import type { World } from "../emulator/world";
import { OWNER_TOKEN, fixture, stackConfig } from "../support/programRun";
import { type Scenario, ensureCli, newScenario, structuredConfig } from "./harness";

const SUBSCRIPTION = "2b53247c-fb65-469e-a711-46e0c29d15a1";
const OTHER_TENANT = "0e3b7c2a-9d41-4f8e-b6a5-1c2d3e4f5a6b";
const CODE = "BILLING_IN_OTHER_TENANT";

/** The warning's text holds the subscription, both directories and both fixes with their links. */
function assertBothFixes(text: string, where: string): void {
  for (const expected of [
    SUBSCRIPTION,
    OTHER_TENANT,
    "(1) Change the subscription's directory to tenant 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "(2) Or switch the organization's billing to an Azure subscription of tenant 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    BILLING_LINKS.changeDirectory,
    BILLING_LINKS.changeBillingSubscription,
  ]) {
    assert.ok(text.includes(expected), `${where} names ${expected}`);
  }
}

describe("billing under the real Pulumi engine", function () {
  let scenario: Scenario;

  before(async function () {
    // A first CLI build compiles Pulumi from its Go sources (about ten minutes on 2 cores).
    this.timeout(45 * 60 * 1000);
    await ensureCli();
    const w: World = {
      ...fixture(),
      tokens: { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com" },
      billing: { subscriptionId: SUBSCRIPTION, subscriptionTenantId: OTHER_TENANT },
    };
    // `metadata=skip`: the backend race the README describes is not what this suite checks.
    scenario = await newScenario("billing", w, { backendQuery: "metadata=skip" });
    await scenario.setConfig(structuredConfig(stackConfig(w)));
  });

  after(async () => {
    await scenario?.cleanup();
  });

  it("preview warns that billing is in another tenant, with both fixes, and blocks nothing", async () => {
    const preview = await scenario.preview();
    const warnings = preview.diagnostics.filter((d) => d.severity === "warning");
    const billing = warnings.filter((d) => d.message.includes(`${CODE}:`));
    assert.equal(billing.length, 1, warnings.map((d) => d.message).join("\n"));
    assertBothFixes(billing[0].message, "the preview's warning");
    assert.ok(
      !warnings.some((d) => /blocker BILLING_/.test(d.message)),
      "billing is never a blocker",
    );
    // Azure Resource Manager was asked without any credential; Azure DevOps with the PAT.
    const requests = scenario.emulator.requests;
    const arm = requests.filter((r) => r.path.startsWith("/subscriptions/"));
    assert.deepEqual(
      arm.map((r) => [r.status, r.auth]),
      [[401, "none"]],
    );
    assert.ok(
      requests.filter((r) => r.path.endsWith("/BillingSetup")).every((r) => r.auth === "basic"),
    );
  });

  it("up applies prepare; migrationPlan, report and manualSteps carry the warning", async () => {
    const up = await scenario.up();
    assert.ok((up.summary.create ?? 0) > 0, JSON.stringify(up.summary));
    const plan = up.outputs.migrationPlan?.value as {
      warnings: { code: string; message: string }[];
      blockers: { code: string }[];
    };
    const warning = plan.warnings.find((w) => w.code === CODE);
    assert.ok(warning, plan.warnings.map((w) => w.code).join(", "));
    assertBothFixes(warning.message, "migrationPlan.warnings");
    assert.ok(!plan.blockers.some((b) => b.code.startsWith("BILLING")));

    const report = String(up.outputs.report?.value);
    assert.ok(report.includes(`\`${CODE}\`: ${warning.message}`), "the report lists it");
    const steps = String(up.outputs.manualSteps?.value);
    assert.match(
      steps,
      new RegExp(`\\d\\. Move billing into the tenant's directory \\(\`${CODE}\`\\)`),
    );
    assertBothFixes(steps, "manualSteps");
  });
});
