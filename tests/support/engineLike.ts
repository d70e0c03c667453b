import * as pulumi from "@pulumi/pulumi";

/**
 * What the engine's dynamic-provider host does with a resource's `__provider` input: load the
 * serialized text as a module and call its `handler()` (see @pulumi/pulumi
 * cmd/dynamic-provider/index.js). Tests run exactly the code that the state would hold.
 */
export function loadSerializedProvider(text: string): pulumi.dynamic.ResourceProvider {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const requireFromString = require("require-from-string") as (code: string) => {
    handler(): pulumi.dynamic.ResourceProvider;
  };
  return requireFromString(text).handler();
}

/** Serializes a provider object the way `pulumi.dynamic.Resource` does. */
export async function serializeProvider(
  provider: pulumi.dynamic.ResourceProvider,
): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

/** The stack config as the provider host hands it to `configure`: full keys, secrets decrypted. */
export function providerConfig(values: Record<string, string>): pulumi.dynamic.Config {
  return {
    get: (key) => values[key.includes(":") ? key : `devops-entra-connect:${key}`],
    require(key) {
      const v = this.get(key);
      if (v === undefined) throw new Error(`Missing required configuration key: ${key}`);
      return v;
    },
  };
}
