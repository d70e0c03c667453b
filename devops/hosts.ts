/**
 * The Azure DevOps hosts the program talks to. Each service lives on its own host; the paths are
 * the documented ones (DOMAIN §2).
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

/** Env var that redirects every host above to one base URL (the tests' emulator). */
export const BASE_URL_ENV = "DEVOPS_API_BASE_URL";

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
  const override = env[BASE_URL_ENV];
  if (override === undefined || override.trim() === "") return ALL_HOSTS[host];
  let url: URL;
  try {
    url = new URL(override.trim());
  } catch {
    throw new Error(
      `${BASE_URL_ENV}="${override}" is not a URL; unset it or use e.g. http://127.0.0.1:8080`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`${BASE_URL_ENV}="${override}" must be an http(s) URL`);
  }
  return url.toString().replace(/\/+$/, "");
}
