import { strict as assert } from "node:assert";
import { BILLING_LINKS, BillingContext, billingFindings } from "../plan/billing";
import type { BillingReading } from "../plan/types";
import {
  BILLING_DIRECTORY,
  REFERENCE,
  SUBSCRIPTION,
  billingContext,
  billingInOtherDirectory,
} from "./support/planInput";

const TARGET = REFERENCE.tenantId;
const OTHER = BILLING_DIRECTORY;
const BEFORE = billingContext();
const inOther = billingInOtherDirectory({ status: "active" });

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
        const found = billingFindings(row.billing, billingContext(row.context));
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
});
