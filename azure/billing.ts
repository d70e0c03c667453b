import type { DevOpsClient } from "../devops/client";
import type { BillingReading } from "../plan/types";
import { SubscriptionTenantOptions, subscriptionTenant } from "./subscriptionTenant";

/**
 * What bills the organization: the billing setup (Azure DevOps), then the directory of its
 * subscription (Azure Resource Manager). Never rejects: a failed read is a reading that says what
 * could not be found out and why, since billing must never fail the run (docs/billing.md).
 */
export async function readBilling(
  client: DevOpsClient,
  organizationId: string | undefined,
  arm: SubscriptionTenantOptions,
): Promise<BillingReading> {
  const what = "which Azure subscription bills the organization";
  if (organizationId === undefined) {
    return {
      kind: "unknown",
      what,
      reason:
        "the organization endpoint answered no organization id (GUID), by which the billing setup is read",
    };
  }
  let setup;
  try {
    setup = await client.getBillingSetup(organizationId);
  } catch (err) {
    return { kind: "unknown", what, reason: (err as Error).message };
  }
  if (setup.kind === "notSetUp") return setup;
  try {
    return {
      kind: "setUp",
      subscriptionId: setup.subscriptionId,
      subscriptionTenantId: await subscriptionTenant(setup.subscriptionId, arm),
      ...(setup.status !== undefined ? { status: setup.status } : {}),
    };
  } catch (err) {
    return {
      kind: "unknown",
      what: `which directory Azure subscription ${setup.subscriptionId} belongs to`,
      reason: (err as Error).message,
    };
  }
}
