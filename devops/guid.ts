const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The all-zero GUID: Azure DevOps' "no tenant", never a real id. */
export const ZERO_GUID = "00000000-0000-0000-0000-000000000000";

/** True for a GUID in its 8-4-4-4-12 form, any case: tenant, subscription and organization ids. */
export function isGuid(value: unknown): value is string {
  return typeof value === "string" && GUID.test(value);
}
