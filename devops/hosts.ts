/**
 * The Azure DevOps hosts the program talks to. Each service lives on its own host; the paths are
 * the documented ones (docs/azure-devops-apis.md#hosts).
 */
export const DEVOPS_HOSTS = {
  /** Projects, and the unauthenticated tenant probe. */
  core: "https://dev.azure.com",
  /** Graph users and the organization endpoints. */
  vssps: "https://vssps.dev.azure.com",
  /** User entitlements (licenses). */
  vsaex: "https://vsaex.dev.azure.com",
  /** Profiles ("who am I"); not organization-scoped. */
  profile: "https://app.vssps.visualstudio.com",
  /** Commerce: the billing setup, addressed by the organization's GUID (docs/billing.md). */
  commerce: "https://azdevopscommerce.dev.azure.com",
} as const;

export type DevOpsHost = keyof typeof DEVOPS_HOSTS;

/** The organization's address as people open it, and as Microsoft's messages name it. */
export function organizationUrl(organization: string): string {
  return `${DEVOPS_HOSTS.core}/${organization}`;
}

/**
 * Azure hosts that are not Azure DevOps. Kept apart from {@link DEVOPS_HOSTS} so that the Azure
 * DevOps client, whose calls carry the Azure DevOps credential, cannot be pointed at them.
 */
export const AZURE_HOSTS = {
  /** Azure Resource Manager: which directory an Azure subscription trusts (docs/billing.md). */
  arm: "https://management.azure.com",
} as const;

export type AzureHost = keyof typeof AZURE_HOSTS;

const ALL_HOSTS: Record<DevOpsHost | AzureHost, string> = { ...DEVOPS_HOSTS, ...AZURE_HOSTS };

/**
 * Env var that redirects every host above to one base URL: a local emulator (the tests, the
 * sandbox of `npm run demo`). Because every call, credentials included, would follow it, only a
 * loopback address is accepted, and the program announces the redirection in its log.
 */
export const BASE_URL_ENV = "DEVOPS_API_BASE_URL";

// An array, not a Set: this module also runs serialized inside the dynamic providers, and Pulumi's
// closure serializer turns a captured Set into a plain object.
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** The redirection in force, as a base URL without a trailing slash; undefined when none. */
export function baseUrlOverride(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[BASE_URL_ENV]?.trim();
  if (value === undefined || value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value is not echoed: a mistyped variable may hold anything, a token included.
    throw new Error(
      `${BASE_URL_ENV} is set but is not a URL; unset it (it is for local emulators only)`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new Error(`${BASE_URL_ENV} must not carry credentials in the URL; unset it`);
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    !LOOPBACK_HOSTS.includes(url.hostname)
  ) {
    throw new Error(
      `${BASE_URL_ENV} points at ${url.protocol}//${url.hostname}, which is not a loopback address: it redirects every Azure DevOps call, tokens included, so only a local emulator (http://127.0.0.1:<port>) is allowed; unset it`,
    );
  }
  return url.toString().replace(/\/+$/, "");
}

/**
 * The URL for `path` on `host`. When `DEVOPS_API_BASE_URL` is set, every host is replaced by that
 * base and the path is kept, so one emulator can answer for all of them.
 */
export function devopsUrl(
  host: DevOpsHost | AzureHost,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const rel = path.startsWith("/") ? path : `/${path}`;
  return `${hostBase(host, env)}${rel}`;
}

/** The scheme+host (+ base path) that `host` resolves to. */
export function hostBase(
  host: DevOpsHost | AzureHost,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return baseUrlOverride(env) ?? ALL_HOSTS[host];
}
