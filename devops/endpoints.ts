/**
 * The documented Azure DevOps REST operations the program calls, with the api-version each is
 * called with (Microsoft's REST specifications, version 7.1; see docs/azure-devops-apis.md). The
 * undocumented organization and billing endpoints have their own modules
 * (`organizationEndpoints.ts`, `billingEndpoint.ts`).
 */
import type { DevOpsHost } from "./hosts";

export interface Endpoint {
  readonly host: DevOpsHost;
  readonly apiVersion: string;
}

/** User Entitlements (memberEntitlementManagement 7.1): list, get, add, delete. */
export const userEntitlements = {
  host: "vsaex",
  apiVersion: "7.1",
  list: (org: string) => `/${org}/_apis/userentitlements`,
  one: (org: string, id: string) => `/${org}/_apis/userentitlements/${encodeURIComponent(id)}`,
} as const satisfies Endpoint & Record<string, unknown>;

/** Graph Users - Update (graph 7.1, preview): maps a user to another identity. */
export const graphUsers = {
  host: "vssps",
  apiVersion: "7.1-preview.1",
  one: (org: string, descriptor: string) =>
    `/${org}/_apis/graph/users/${encodeURIComponent(descriptor)}`,
} as const satisfies Endpoint & Record<string, unknown>;

/** Projects - List and Projects - Get with capabilities (core 7.1). */
export const projects = {
  host: "core",
  apiVersion: "7.1",
  /** Projects - List pages with `$top`/`$skip`; the service caps a page at 100 by default. */
  pageSize: 100,
  list: (org: string) => `/${org}/_apis/projects`,
  one: (org: string, id: string) => `/${org}/_apis/projects/${encodeURIComponent(id)}`,
} as const satisfies Endpoint & Record<string, unknown>;

/** Profiles - Get `me` (profile 7.1): who a credential belongs to; not organization-scoped. */
export const profile = {
  host: "profile",
  apiVersion: "7.1",
  me: () => "/_apis/profile/profiles/me",
} as const satisfies Endpoint & Record<string, unknown>;
