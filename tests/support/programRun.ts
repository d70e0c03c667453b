import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../config/load";
import { DevOpsClient } from "../../devops/client";
import { BASE_URL_ENV } from "../../devops/hosts";
import { ProgramOptions, ProgramOutputs, migrationProgram } from "../../program";
import type { Emulator } from "../emulator/server";
import type { World } from "../emulator/world";
import type { StackResources } from "../../inventory/stack";
import { WorldMocks, unwrap } from "./worldMocks";

export { FIXTURE, fixture } from "./fixture";

/** Token values the tests configure; the emulator maps them to identities when `world.tokens` is set. */
export const OWNER_TOKEN = "devops-pat-value-0123456789";
export const TEMPORARY_TOKEN = "temporary-pat-value-9876543210";

/** The stack configuration of the reference world (as in Pulumi.dev.yaml) plus the test's changes. */
export function stackConfig(
  world: World,
  extra: Record<string, unknown> = {},
): Record<string, string> {
  const values: Record<string, unknown> = {
    organization: `https://dev.azure.com/${world.organization}`,
    tenantId: world.tenant.id,
    identityChanges: { "jamal@outlook.com": "jamal@fabrikam.com" },
    excludeUsers: ["Leaver@OtherCompany.com"],
    devopsToken: OWNER_TOKEN,
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      `devops-entra-connect:${k}`,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

export interface Run {
  readonly mocks: WorldMocks;
  readonly outputs: ProgramOutputs;
  readonly invitedGuests: string[];
  readonly client: DevOpsClient;
  /**
   * The stack's state after this run, as a successful `pulumi up` would leave it under mocks:
   * every registered resource with the state the mocks gave it. The next run reads it back.
   */
  readonly state: StackResources;
}

/**
 * One evaluation of the program under `mocks`, with Azure DevOps served by `emulator`. The keys
 * holding tokens are passed as secrets, as the engine does.
 */
export async function runProgram(
  emulator: Emulator,
  mocks: WorldMocks,
  config: Record<string, string>,
  preview = false,
  options: Pick<ProgramOptions, "entraCredential"> = {},
): Promise<Run> {
  await mocks.install(preview);
  pulumi.runtime.setAllConfig(config, [
    "devops-entra-connect:devopsToken",
    "devops-entra-connect:temporaryOwner",
  ]);
  let client: DevOpsClient | undefined;
  const outputs = await migrationProgram(loadConfig(), {
    env: { [BASE_URL_ENV]: emulator.url },
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
    onClient: (c) => (client = c),
    today: "2026-11-26",
    verify: { attempts: 2, intervalMs: 10 },
    ...options,
  });
  const invitedGuests = await unwrap(outputs.invitedGuests);
  // Registrations of dynamic resources wait for their provider's serialization: let every
  // outstanding RPC finish before the test reads what was registered.
  await pulumi.runtime.disconnect();
  assert.deepEqual(
    mocks.unexpected,
    [],
    "the program made only the expected invokes and registrations",
  );
  assert.ok(client);
  const state = mocks.recordState();
  return { mocks, outputs, invitedGuests, client, state };
}
