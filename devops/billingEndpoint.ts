/**
 * The organization's billing setup: which Azure subscription pays for it. Azure DevOps documents
 * no REST API for it; public tools read `GET https://azdevopscommerce.dev.azure.com/{organization
 * GUID}/_apis/AzComm/BillingSetup` (VSTeam's `Get-VSTeamAccountBilling`, the PSRule rules for Azure
 * DevOps; see docs/billing.md). Microsoft may change it: its host, path, api-version and the shape
 * of its answer are described here, and only here, so a correction is one edit.
 */

import { isGuid } from "./guid";

/** What the billing setup says: the subscription that bills the organization, or none. */
export type BillingSetup =
  | { readonly kind: "notSetUp" }
  | {
      readonly kind: "setUp";
      /** The Azure subscription id (GUID, lower case). */
      readonly subscriptionId: string;
      /** `subscriptionStatus` as the service spells it (e.g. "active"), when it says. */
      readonly status?: string;
    };

export const billingEndpoint = {
  host: "commerce",
  /** The organization's GUID, not its name: the commerce service knows organizations by id. */
  path: (organizationId: string) => `/${organizationId}/_apis/AzComm/BillingSetup`,
  // The version the PSRule rules send; VSTeam sends 5.1-preview.1 to the same resource.
  apiVersion: "7.1-preview.1",
} as const;

/**
 * Fields the public samples of the answer carry. VSTeam's sample has `subscriptionId` and the two
 * `is…BillingEnabled` flags; the PSRule reader requires `subscriptionStatus` (null allowed) and the
 * flags. An object with none of them is not this endpoint's answer (an error page, another
 * resource), so it is refused rather than read as "no billing".
 */
const KNOWN_FIELDS = [
  "subscriptionId",
  "subscriptionStatus",
  "isEnterpriseBillingEnabled",
  "isAssignmentBillingEnabled",
] as const;

/**
 * Reads the endpoint's JSON answer, strictly. Billing is not set up when `subscriptionId` is absent,
 * null or empty (what both public readers test); otherwise it must be a GUID. Throws an Error saying
 * what does not match.
 */
export function parseBillingSetup(body: unknown): BillingSetup {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new Error(`the answer is not a JSON object (got ${describe(body)})`);
  }
  const b = body as Record<string, unknown>;
  if (!KNOWN_FIELDS.some((f) => f in b)) {
    throw new Error(
      `the answer has none of the billing setup's fields (${KNOWN_FIELDS.join(", ")}); got ${describe(body)}`,
    );
  }
  for (const flag of ["isEnterpriseBillingEnabled", "isAssignmentBillingEnabled"] as const) {
    if (b[flag] !== undefined && b[flag] !== null && typeof b[flag] !== "boolean") {
      throw new Error(`\`${flag}\` is not a boolean (got ${describe(b[flag])})`);
    }
  }
  const status = b.subscriptionStatus;
  if (status !== undefined && status !== null && typeof status !== "string") {
    throw new Error(`\`subscriptionStatus\` is not a string (got ${describe(status)})`);
  }
  const id = b.subscriptionId;
  if (id === undefined || id === null || id === "") return { kind: "notSetUp" };
  if (typeof id !== "string" || !isGuid(id.trim())) {
    throw new Error(`\`subscriptionId\` is not a GUID (got ${describe(id)})`);
  }
  return {
    kind: "setUp",
    subscriptionId: id.trim().toLowerCase(),
    ...(typeof status === "string" && status.trim() !== "" ? { status: status.trim() } : {}),
  };
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
