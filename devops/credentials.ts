import type { TokenCredential } from "@azure/identity";

/** Entra application id of Azure DevOps: the resource an Entra access token must be issued for. */
export const AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798";

/** Env var read when `devopsToken` is not configured. */
export const PAT_ENV = "AZDO_PERSONAL_ACCESS_TOKEN";

/** Env var read when `temporaryOwner.devopsToken` is not configured. */
export const TEMPORARY_OWNER_PAT_ENV = "AZDO_TEMPORARY_OWNER_TOKEN";

/**
 * A way to authenticate to Azure DevOps. It hands out the `Authorization` header value on demand
 * (Entra tokens expire within the hour) and never exposes where the secret came from except by name.
 */
export interface DevOpsCredential {
  /** Where the credential comes from, for logs: never the value. */
  readonly source:
    | "config devopsToken"
    | `env ${typeof PAT_ENV}`
    | "Entra (DefaultAzureCredential)"
    | "config temporaryOwner.devopsToken"
    | `env ${typeof TEMPORARY_OWNER_PAT_ENV}`;
  authorizationHeader(): Promise<string>;
}

/** Personal access tokens go in Basic auth with an empty user name (docs/azure-devops-apis.md#authentication). */
function patCredential(pat: string, source: DevOpsCredential["source"]): DevOpsCredential {
  const header = `Basic ${Buffer.from(`:${pat}`).toString("base64")}`;
  return { source, authorizationHeader: async () => header };
}

/**
 * Entra access tokens for Azure DevOps, from a `TokenCredential` (by default
 * `DefaultAzureCredential`: Azure CLI login on a workstation, workload identity in pipelines).
 */
export function entraCredential(credential?: TokenCredential): DevOpsCredential {
  let resolved = credential;
  return {
    source: "Entra (DefaultAzureCredential)",
    async authorizationHeader() {
      resolved ??= defaultAzureCredential();
      let token;
      try {
        token = await resolved.getToken(`${AZURE_DEVOPS_RESOURCE}/.default`);
      } catch (err) {
        throw new Error(
          `No Azure DevOps credential: devopsToken is not set, ${PAT_ENV} is empty, and no Entra token could be had ` +
            `(${(err as Error).message.split("\n")[0]}). Run \`az login\`, or set ${PAT_ENV} (a PAT, kept out of the state and of the command line).`,
        );
      }
      if (!token) {
        throw new Error(
          `The Entra credential returned no token for Azure DevOps (${AZURE_DEVOPS_RESOURCE}).`,
        );
      }
      return `Bearer ${token.token}`;
    },
  };
}

/**
 * `@azure/identity`'s `DefaultAzureCredential` (Azure CLI login, workload identity, …). Loaded only
 * when needed: the chain is heavy and PAT users never touch it. Plain `require`, because this also
 * runs serialized inside dynamic providers.
 */
export function defaultAzureCredential(): TokenCredential {
  const { DefaultAzureCredential } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("@azure/identity") as typeof import("@azure/identity");
  return new DefaultAzureCredential();
}

/**
 * Picks the credential in the documented order: the `devopsToken` secret, then
 * `AZDO_PERSONAL_ACCESS_TOKEN`, then an Entra token.
 */
export function resolveDevOpsCredential(opts: {
  configToken?: string;
  env?: NodeJS.ProcessEnv;
  entra?: TokenCredential;
}): DevOpsCredential {
  const configToken = opts.configToken?.trim();
  if (configToken) return patCredential(configToken, "config devopsToken");
  const envToken = (opts.env ?? process.env)[PAT_ENV]?.trim();
  if (envToken) return patCredential(envToken, `env ${PAT_ENV}`);
  return entraCredential(opts.entra);
}

/**
 * The temporary owner's credential, in the one order both the program and the providers use: the
 * `temporaryOwner.devopsToken` secret, then `AZDO_TEMPORARY_OWNER_TOKEN`. A Microsoft account has
 * no Entra token for Azure DevOps, so there is no third source; undefined when neither is set.
 */
export function resolveTemporaryOwnerCredential(opts: {
  configToken?: string;
  env?: NodeJS.ProcessEnv;
}): DevOpsCredential | undefined {
  const configToken = opts.configToken?.trim();
  if (configToken) return patCredential(configToken, "config temporaryOwner.devopsToken");
  const envToken = (opts.env ?? process.env)[TEMPORARY_OWNER_PAT_ENV]?.trim();
  if (envToken) return patCredential(envToken, `env ${TEMPORARY_OWNER_PAT_ENV}`);
  return undefined;
}
