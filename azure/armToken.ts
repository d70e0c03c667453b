import type { TokenCredential } from "@azure/identity";
import { defaultAzureCredential } from "../devops/credentials";

/** The scope of an Azure Resource Manager access token. */
export const ARM_SCOPE = "https://management.azure.com/.default";

/**
 * Azure Resource Manager access tokens from an Entra login (by default `DefaultAzureCredential`).
 * A token for ARM, never the Azure DevOps credential: each token only goes to the service it was
 * issued for. Asked for lazily, only when ARM's challenge does not name the subscription's tenant.
 */
export function armTokenFrom(credential?: TokenCredential): () => Promise<string> {
  let resolved = credential;
  return async () => {
    resolved ??= defaultAzureCredential();
    const token = await resolved.getToken(ARM_SCOPE);
    if (!token) throw new Error(`the Entra login returned no token for ${ARM_SCOPE}`);
    return token.token;
  };
}
