/**
 * The organization endpoints Azure DevOps does not document (docs/undocumented-endpoints.md): who owns the
 * organization, which tenant it is on, changing the owner, connecting to a tenant. Public tools use
 * them, Microsoft may change them: every path, api-version and body shape is here, and only here,
 * so a correction is one edit.
 */
import { ZERO_GUID } from "./guid";

/** The all-zero GUID: "no tenant" (MSA-backed), and the value that disconnects. */
export const ZERO_TENANT = ZERO_GUID;

/** JSON Patch "replace" as these endpoints expect it: numeric op 2, empty `from`. */
function replace(path: string, value: string): unknown[] {
  return [{ from: "", op: 2, path, value }];
}

export const organizationEndpoints = {
  /** Owner id and tenant id: `GET vssps/{org}/_apis/Organization/Collections/Me`. */
  readCollection: {
    host: "vssps",
    path: (org: string) => `/${org}/_apis/Organization/Collections/Me`,
    apiVersion: "7.1-preview.1",
  },
  /** Hand ownership to a user id: `PATCH …/Collections/Me`, json-patch `/Owner`. */
  changeOwner: {
    host: "vssps",
    path: (org: string) => `/${org}/_apis/Organization/Collections/Me`,
    apiVersion: "7.1-preview.1",
    contentType: "application/json-patch+json",
    body: (ownerId: string) => replace("/Owner", ownerId),
  },
  /** Connect to (or, with {@link ZERO_TENANT}, disconnect from) a tenant. */
  setTenant: {
    host: "vssps",
    path: (org: string) => `/${org}/_apis/Organization/Organizations/Me`,
    apiVersion: "5.0-preview.1",
    contentType: "application/json-patch+json",
    body: (tenantId: string) => replace("/TenantId", tenantId),
  },
  /** Unauthenticated `HEAD dev.azure.com/{org}`: header `X-VSS-ResourceTenant`. */
  resourceTenant: {
    host: "core",
    path: (org: string) => `/${org}`,
    header: "x-vss-resourcetenant",
  },
} as const;
