import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, MigrationConfig, RawConfig, parseConfig } from "./schema";

/** What the program reads from the stack: the validated settings, and the token kept apart. */
export interface LoadedConfig {
  readonly config: MigrationConfig;
  /** `devopsToken`, still wrapped as a secret; undefined when not set. */
  readonly devopsToken?: pulumi.Output<string>;
  /** `temporaryOwner.devopsToken`, wrapped as a secret; undefined when not set. */
  readonly temporaryOwnerToken?: pulumi.Output<string>;
}

const OBJECT_KEYS = [
  "invitation",
  "identityChanges",
  "acceptHistoricUsers",
  "excludeUsers",
  "temporaryOwner",
] as const;

/**
 * Reads every key of the namespace once and validates them together, so that one run reports all
 * problems. The providers read the tokens again from the config the engine hands them
 * (`providers/credentials.ts`); everything else gets its settings from here.
 */
export function loadConfig(cfg = new pulumi.Config(CONFIG_NAMESPACE)): LoadedConfig {
  const problems: string[] = [];
  const raw: RawConfig = {
    organization: cfg.get("organization"),
    tenantId: cfg.get("tenantId"),
    phase: cfg.get("phase"),
    allowTfvc: cfg.get("allowTfvc"),
    allowDisconnect: cfg.get("allowDisconnect"),
  };
  for (const name of OBJECT_KEYS) {
    try {
      raw[name] = cfg.getObject(name);
    } catch {
      problems.push(
        `${CONFIG_NAMESPACE}:${name} is not valid JSON/YAML structure; set it with \`pulumi config set --path\` or edit Pulumi.<stack>.yaml`,
      );
    }
  }

  if (cfg.get("devopsToken") !== undefined && !isSecretConfig(`${CONFIG_NAMESPACE}:devopsToken`)) {
    // A plaintext token sits in Pulumi.<stack>.yaml, which is usually committed.
    problems.push(
      `${CONFIG_NAMESPACE}:devopsToken is stored in plaintext: revoke that token, remove the key (\`pulumi config rm devopsToken\`) and pass the new one as AZDO_PERSONAL_ACCESS_TOKEN (or sign in with \`az login\`)`,
    );
  }

  const temporaryOwnerToken = (raw.temporaryOwner as { devopsToken?: unknown } | undefined)
    ?.devopsToken;
  if (temporaryOwnerToken !== undefined && !isSecretConfig(`${CONFIG_NAMESPACE}:temporaryOwner`)) {
    problems.push(
      `${CONFIG_NAMESPACE}:temporaryOwner.devopsToken is stored in plaintext: revoke that token, remove the key (\`pulumi config rm --path temporaryOwner.devopsToken\`) and pass the new one as AZDO_TEMPORARY_OWNER_TOKEN`,
    );
  }

  let config: MigrationConfig | undefined;
  try {
    config = parseConfig(raw);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);

  const devopsToken = cfg.getSecret("devopsToken");
  return {
    config,
    ...(devopsToken !== undefined ? { devopsToken } : {}),
    ...(typeof temporaryOwnerToken === "string" && temporaryOwnerToken.trim() !== ""
      ? { temporaryOwnerToken: pulumi.secret(temporaryOwnerToken.trim()) }
      : {}),
  };
}

/**
 * Whether the engine passed this key as a secret. The SDK keeps that list internally
 * (`runtime/config.isConfigSecret`), not in its typings; when it is missing we cannot tell, and
 * assume secret rather than refuse a valid stack.
 */
function isSecretConfig(fullKey: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    isConfigSecret?: (k: string) => boolean;
  };
  return runtimeConfig.isConfigSecret ? runtimeConfig.isConfigSecret(fullKey) : true;
}

/** The plain value of a secret, for use inside this process only (never put in a resource or output). */
export function revealForThisProcess<T>(secret: pulumi.Output<T>): Promise<T> {
  return new Promise<T>((resolve) => {
    secret.apply((value) => {
      resolve(value);
      return value;
    });
  });
}
