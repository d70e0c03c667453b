import { strict as assert } from "node:assert";
import { BILLING_LINKS, BillingContext, billingFindings } from "../plan/billing";
import { manualSteps } from "../plan/communication";
import { planMigration } from "../plan/plan";
import { renderReport } from "../plan/report";
import type { BillingReading, MigrationPlan, PlanInput } from "../plan/types";

const TARGET = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const OTHER = "0e3b7c2a-9d41-4f8e-b6a5-1c2d3e4f5a6b";
const SUBSCRIPTION = "2b53247c-fb65-469e-a711-46e0c29d15a1";
const BEFORE: BillingContext = {
  organization: "fabrikam",
  targetTenantId: TARGET,
  connected: false,
};

const inOther: BillingReading = {
  kind: "setUp",
  subscriptionId: SUBSCRIPTION,
  subscriptionTenantId: OTHER,
  status: "active",
};

describe("billing findings", () => {
  describe("billingFindings: reading → warnings and notices", () => {
    const table: {
      name: string;
      billing: BillingReading;
      context?: Partial<BillingContext>;
      warnings: string[];
      notices: string[];
      says?: RegExp[];
    }[] = [
      {
        name: "not set up: a notice, nothing to do",
        billing: { kind: "notSetUp" },
        warnings: [],
        notices: ["BILLING_NOT_SET_UP"],
        says: [new RegExp(`pick a subscription of tenant ${TARGET}`), /set-up-billing/],
      },
      {
        name: "a subscription of the target tenant: nothing",
        billing: { ...inOther, subscriptionTenantId: TARGET.toUpperCase() },
        warnings: [],
        notices: [],
      },
      {
        name: "a subscription in another directory, before the connection: both fixes",
        billing: inOther,
        warnings: ["BILLING_IN_OTHER_TENANT"],
        notices: [],
        says: [
          new RegExp(
            `Azure subscription ${SUBSCRIPTION} bills the organization and belongs to directory ${OTHER}`,
          ),
          new RegExp(
            `once the organization is connected to tenant ${TARGET}, purchases and billing changes stop`,
          ),
          new RegExp(`\\(1\\) Change the subscription's directory to tenant ${TARGET}`),
          new RegExp(
            `\\(2\\) Or switch the organization's billing to an Azure subscription of tenant ${TARGET}`,
          ),
          /https:\/\/dev\.azure\.com\/fabrikam\/_settings\/billing/,
          /Billing does not block the connection\./,
        ],
      },
      {
        name: "the same, once connected: purchases are stopped now",
        billing: inOther,
        context: { connected: true },
        warnings: ["BILLING_IN_OTHER_TENANT"],
        notices: [],
        says: [/so purchases and billing changes are stopped until one of two fixes is made/],
      },
      {
        name: "a subscription that is not active says its status",
        billing: { ...inOther, status: "Disabled" },
        warnings: ["BILLING_IN_OTHER_TENANT"],
        notices: [],
        says: [/\(subscription status: Disabled\)/],
      },
      {
        name: "a failed read: a warning saying what could not be checked, never a blocker",
        billing: {
          kind: "unknown",
          what: "which Azure subscription bills the organization",
          reason: "read the billing setup failed with HTTP 203",
        },
        warnings: ["BILLING_CHECK_FAILED"],
        notices: [],
        says: [
          /^Billing could not be checked: which Azure subscription bills the organization could not be found out \(read the billing setup failed with HTTP 203\)\./,
          /It does not block the connection/,
          /Check by hand: https:\/\/dev\.azure\.com\/fabrikam\/_settings\/billing names the subscription/,
        ],
      },
    ];
    for (const row of table) {
      it(row.name, () => {
        const found = billingFindings(row.billing, { ...BEFORE, ...row.context });
        assert.deepEqual(
          found.warnings.map((f) => f.code),
          row.warnings,
        );
        assert.deepEqual(
          found.notices.map((f) => f.code),
          row.notices,
        );
        const text = [...found.warnings, ...found.notices].map((f) => f.message).join("\n");
        for (const expected of row.says ?? []) assert.match(text, expected);
      });
    }

    it("links Microsoft's pages for both fixes", () => {
      const [warning] = billingFindings(inOther, BEFORE).warnings;
      for (const link of [
        BILLING_LINKS.changeDirectory,
        BILLING_LINKS.transferEffects,
        BILLING_LINKS.changeBillingSubscription,
      ]) {
        assert.ok(warning.message.includes(link), link);
      }
      for (const link of Object.values(BILLING_LINKS)) {
        assert.match(link, /^https:\/\/learn\.microsoft\.com\/en-us\//);
      }
    });
  });

  describe("in the plan, the report and the manual steps", () => {
    const owner = { id: "u-owner", principalName: "owner@outlook.com", origin: "msa" };
    const planInput = (billing?: BillingReading, phase = "prepare"): PlanInput => ({
      organization: { name: "fabrikam", url: "https://dev.azure.com/fabrikam" },
      tenantId: TARGET,
      phase,
      organizationTenantId: null,
      ownerId: owner.id,
      users: [owner],
      projects: [],
      tenant: {
        users: [{ objectId: "o-1", userPrincipalName: "owner@outlook.com", kind: "member" }],
        verifiedDomains: ["fabrikam.com"],
      },
      identityChanges: new Map(),
      acceptHistoricUsers: new Set(),
      excludeUsers: new Set(),
      invitationUserType: "Guest",
      previouslyInvited: new Set(),
      previouslyMapped: new Map(),
      ...(billing ? { billing } : {}),
    });
    const steps = (plan: MigrationPlan, phase: "prepare" | "connect", connected = false): string =>
      manualSteps({
        phase,
        organization: "fabrikam",
        tenantId: TARGET,
        date: "2026-11-26",
        plan,
        connected,
      });

    it("adds the billing warning to the plan's warnings, never to its blockers", () => {
      const plan = planMigration(planInput(inOther));
      assert.deepEqual(
        plan.warnings.map((w) => w.code),
        ["BILLING_IN_OTHER_TENANT"],
      );
      assert.ok(!plan.blockers.some((b) => b.code.startsWith("BILLING")));
      assert.deepEqual(plan.notices, []);
      const md = renderReport(plan);
      assert.match(md, /### Warnings\n\n- `BILLING_IN_OTHER_TENANT`: Azure subscription 2b53247c/);
      assert.match(
        md,
        /learn\.microsoft\.com\/en-us\/entra\/fundamentals\/how-subscriptions-associated-directory/,
      );
    });

    it("puts the step with both fixes in the manual steps of prepare and connect", () => {
      const plan = planMigration(planInput(inOther));
      const [warning] = plan.warnings;
      for (const [phase, connected] of [
        ["prepare", false],
        ["connect", false],
        ["connect", true],
      ] as const) {
        const text = steps(planMigration(planInput(inOther, phase)), phase, connected);
        assert.match(
          text,
          /\d\. Move billing into the tenant's directory \(`BILLING_IN_OTHER_TENANT`\): /,
        );
        assert.ok(text.includes(BILLING_LINKS.changeBillingSubscription), `${phase} ${connected}`);
      }
      assert.ok(steps(plan, "prepare").includes(warning.message));
      const failed = planMigration(
        planInput({
          kind: "unknown",
          what: "which Azure subscription bills the organization",
          reason: "x",
        }),
      );
      assert.match(
        steps(failed, "prepare"),
        /Check billing by hand \(`BILLING_CHECK_FAILED`\): Billing could not be checked/,
      );
      assert.doesNotMatch(steps(planMigration(planInput()), "prepare"), /billing/i);
    });

    it("renders a notice in its own section and asks nothing of a human", () => {
      const plan = planMigration(planInput({ kind: "notSetUp" }));
      assert.deepEqual(plan.warnings, []);
      assert.deepEqual(
        plan.notices.map((n) => n.code),
        ["BILLING_NOT_SET_UP"],
      );
      assert.match(
        renderReport(plan),
        /### Notices\n\n- `BILLING_NOT_SET_UP`: No Azure subscription is set up for billing/,
      );
      assert.doesNotMatch(steps(plan, "prepare"), /BILLING/);
    });

    it("has no billing findings where billing is not read", () => {
      const plan = planMigration(planInput(undefined, "resolve"));
      assert.deepEqual(plan.notices, []);
      assert.doesNotMatch(renderReport(plan), /Notices|BILLING/);
    });
  });
});
