import { organizationUrl } from "../devops/hosts";
import type { BillingReading, Finding } from "./types";

/** What the billing findings need to know besides the reading. */
export interface BillingContext {
  readonly organization: string;
  /** The tenant the organization is (to be) connected to. */
  readonly targetTenantId: string;
  /** True once the organization reports the target tenant. */
  readonly connected: boolean;
}

/** Microsoft's pages for the two fixes and for setting billing up (docs/billing.md). */
export const BILLING_LINKS = {
  changeDirectory:
    "https://learn.microsoft.com/en-us/entra/fundamentals/how-subscriptions-associated-directory",
  transferEffects:
    "https://learn.microsoft.com/en-us/azure/role-based-access-control/transfer-subscription",
  changeBillingSubscription:
    "https://learn.microsoft.com/en-us/azure/devops/organizations/billing/change-azure-subscription",
  setUpBilling:
    "https://learn.microsoft.com/en-us/azure/devops/organizations/billing/set-up-billing-for-your-organization-vs",
} as const;

const billingSettings = (organization: string): string =>
  `${organizationUrl(organization)}/_settings/billing`;

/**
 * The billing findings. Azure DevOps bills through the Azure subscription linked to the
 * organization, and purchases and billing changes stop while that subscription trusts another
 * directory than the one the organization is connected to (Microsoft's connection tutorial, "Update
 * the Azure subscription that your organization uses for billing"). Billing is not access: every
 * finding here is a warning or a notice, never a blocker. Pure.
 */
export function billingFindings(
  billing: BillingReading,
  context: BillingContext,
): { warnings: Finding[]; notices: Finding[] } {
  const target = context.targetTenantId;
  switch (billing.kind) {
    case "notSetUp":
      return {
        warnings: [],
        notices: [
          {
            code: "BILLING_NOT_SET_UP",
            message: `No Azure subscription is set up for billing (the organization uses the free tier), so none can be in another directory. If billing is set up later, pick a subscription of tenant ${target} (${BILLING_LINKS.setUpBilling}).`,
          },
        ],
      };
    case "unknown":
      return {
        warnings: [
          {
            code: "BILLING_CHECK_FAILED",
            message: `Billing could not be checked: ${billing.what} could not be found out (${billing.reason.replace(/\.$/, "")}). It does not block the connection, but purchases stop while the billing subscription is in another directory than tenant ${target}. Check by hand: ${billingSettings(context.organization)} names the subscription, and the Azure portal shows its directory.`,
          },
        ],
        notices: [],
      };
    case "setUp": {
      if (billing.subscriptionTenantId.toLowerCase() === target.toLowerCase()) {
        return { warnings: [], notices: [] };
      }
      const status =
        billing.status !== undefined && billing.status.toLowerCase() !== "active"
          ? ` (subscription status: ${billing.status})`
          : "";
      const when = context.connected
        ? `the organization is connected to tenant ${target}, so purchases and billing changes are stopped until`
        : `once the organization is connected to tenant ${target}, purchases and billing changes stop until`;
      return {
        warnings: [
          {
            code: "BILLING_IN_OTHER_TENANT",
            message:
              `Azure subscription ${billing.subscriptionId}${status} bills the organization and belongs to directory ${billing.subscriptionTenantId}, not to the target tenant: ${when} one of two fixes is made. ` +
              `(1) Change the subscription's directory to tenant ${target} (a subscription Owner, in the Azure portal: ${BILLING_LINKS.changeDirectory}; role assignments and managed identities in the subscription do not move with it: ${BILLING_LINKS.transferEffects}). ` +
              `(2) Or switch the organization's billing to an Azure subscription of tenant ${target} (Organization settings → Billing, ${billingSettings(context.organization)}: ${BILLING_LINKS.changeBillingSubscription}). ` +
              "Billing does not block the connection.",
          },
        ],
        notices: [],
      };
    }
  }
}
