/**
 * The Azure DevOps clients of a run: one for the credential that acts as the organization's owner
 * (or another Project Collection Administrator), and one for the temporary owner's token when
 * there is one. Credentials are read in the order the providers read them: the config secret, else
 * the environment, else (for the owner) an Entra login.
 */
import type { TokenCredential } from "@azure/identity";
import { LoadedConfig, revealForThisProcess } from "../config/load";
import { DevOpsClient, DevOpsClientOptions } from "../devops/client";
import {
  DevOpsCredential,
  resolveDevOpsCredential,
  resolveTemporaryOwnerCredential,
} from "../devops/credentials";
import type { RetryPolicy } from "../devops/retry";

export interface ClientOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly entraCredential?: TokenCredential;
  readonly retry?: Partial<RetryPolicy>;
  readonly onProgress?: (message: string) => void;
}

export interface Clients {
  readonly owner: DevOpsClient;
  /** Where the owner's credential comes from, for the log: never the value. */
  readonly ownerSource: DevOpsCredential["source"];
  readonly temporaryOwner?: DevOpsClient;
}

export async function devopsClients(
  loaded: LoadedConfig,
  options: ClientOptions,
): Promise<Clients> {
  const env = options.env ?? process.env;
  const base: Omit<DevOpsClientOptions, "credential"> = {
    organization: loaded.config.organization.name,
    env,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  const configToken = loaded.devopsToken
    ? await revealForThisProcess(loaded.devopsToken)
    : undefined;
  const credential = resolveDevOpsCredential({
    ...(configToken !== undefined ? { configToken } : {}),
    env,
    ...(options.entraCredential ? { entra: options.entraCredential } : {}),
  });
  const temporaryCredential = resolveTemporaryOwnerCredential({
    ...(loaded.temporaryOwnerToken
      ? { configToken: await revealForThisProcess(loaded.temporaryOwnerToken) }
      : {}),
    env,
  });
  return {
    owner: new DevOpsClient({ ...base, credential }),
    ownerSource: credential.source,
    ...(temporaryCredential
      ? { temporaryOwner: new DevOpsClient({ ...base, credential: temporaryCredential }) }
      : {}),
  };
}
