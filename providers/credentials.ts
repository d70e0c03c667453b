import type * as pulumi from "@pulumi/pulumi";
import { DevOpsClient } from "../devops/client";
import {
  DevOpsCredential,
  TEMPORARY_OWNER_PAT_ENV,
  resolveDevOpsCredential,
  resolveTemporaryOwnerCredential,
} from "../devops/credentials";

/**
 * Which identity performs a provider's calls, named explicitly by each resource: the organization
 * owner's credential (`devopsToken`, else
 * `AZDO_PERSONAL_ACCESS_TOKEN`, else Entra), or the temporary owner's (`temporaryOwner.devopsToken`,
 * else `AZDO_TEMPORARY_OWNER_TOKEN`).
 */
export type CallerRole = "owner" | "temporaryOwner";

const NAMESPACE = "devops-entra-connect";

/**
 * Tokens live in the provider process only. They are read from the stack config that the engine
 * hands to `configure` (secrets decrypted there) and kept on a global symbol — never in a variable
 * a provider method captures, because the serialized provider is stored in the state in plaintext.
 */
type Tokens = Partial<Record<CallerRole, string>>;
/** A global key, not a captured Symbol: the closure serializer cannot carry a Symbol value across. */
const STORE_KEY = "__devopsEntraConnectProviderTokens";
type Global = typeof globalThis & { [STORE_KEY]?: Tokens };

/** Stores the tokens found in the stack config; called from each provider's `configure`. */
export function rememberTokens(config: pulumi.dynamic.Config): void {
  const tokens: Tokens = {};
  const owner = config.get(`${NAMESPACE}:devopsToken`)?.trim();
  if (owner) tokens.owner = owner;
  const temporaryOwner = config.get(`${NAMESPACE}:temporaryOwner`);
  if (temporaryOwner) {
    try {
      const token = (JSON.parse(temporaryOwner) as { devopsToken?: unknown }).devopsToken;
      if (typeof token === "string" && token.trim() !== "") tokens.temporaryOwner = token.trim();
    } catch {
      // The program validated this key before any provider ran; a non-JSON value has no token.
    }
  }
  (globalThis as Global)[STORE_KEY] = tokens;
}

/** The credential for `role`, from `configure`'s tokens or the environment. */
export function credentialFor(
  role: CallerRole,
  env: NodeJS.ProcessEnv = process.env,
): DevOpsCredential {
  const tokens = (globalThis as Global)[STORE_KEY] ?? {};
  if (role === "owner") {
    return resolveDevOpsCredential({ ...(tokens.owner ? { configToken: tokens.owner } : {}), env });
  }
  const credential = resolveTemporaryOwnerCredential({
    ...(tokens.temporaryOwner ? { configToken: tokens.temporaryOwner } : {}),
    env,
  });
  if (credential === undefined) {
    return {
      source: "config temporaryOwner.devopsToken",
      authorizationHeader: () =>
        Promise.reject(
          new Error(
            `No token for the temporary owner: export its PAT as ${TEMPORARY_OWNER_PAT_ENV} (kept out of the state), or run \`pulumi config set --secret --path temporaryOwner.devopsToken\`, which prompts for it.`,
          ),
        ),
    };
  }
  return credential;
}

/** A client for `organization` acting as `role`. */
export function clientFor(organization: string, role: CallerRole): DevOpsClient {
  return new DevOpsClient({ organization, credential: credentialFor(role) });
}

/** For tests: forget what `configure` stored. */
export function forgetTokens(): void {
  delete (globalThis as Global)[STORE_KEY];
}
