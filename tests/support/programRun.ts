import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../config/load";
import { DevOpsClient } from "../../devops/client";
import { BASE_URL_ENV } from "../../devops/hosts";
import { ProgramOptions, ProgramOutputs, migrationProgram } from "../../program";
import type { Emulator } from "../emulator/server";
import type { World } from "../emulator/world";
import type { StackResources } from "../../inventory/stack";
import { WorldMocks, unwrap } from "./worldMocks";

export const FIXTURE = path.join(__dirname, "..", "fixtures", "world.json");
/** A fresh copy of the reference world. */
export const fixture = (): World => JSON.parse(readFileSync(FIXTURE, "utf8")) as World;

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

/** The mock monitor's view of what a run registered: URN (parents included) → id and state. */
function registeredResources(): Map<string, { urn: string; state: Record<string, unknown> }> {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    getRegisteredResources(): Map<string, { urn: string; state: Record<string, unknown> }>;
  };
  return monitor.getRegisteredResources();
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
  await pulumi.runtime.setMocks(mocks, "devops-entra-connect", "dev", preview, "organization");
  mocks.observe();
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
  const state: Record<string, { type: string; outputs: Record<string, unknown> }> = {};
  for (const [urn, r] of registeredResources()) {
    const type = urn.split("::")[2].split("$").pop() as string;
    // A component's registered outputs are kept as the protobuf Struct the SDK sent.
    const raw = r.state as { toJavaScript?: () => Record<string, unknown> };
    const recorded = typeof raw.toJavaScript === "function" ? raw.toJavaScript() : r.state;
    state[urn] = { type, outputs: recorded };
    const name = urn.slice(urn.lastIndexOf("::") + 2);
    for (const reg of mocks.registrations) {
      if (reg.name !== name || reg.type !== type) continue;
      reg.urn = urn;
      reg.state = recorded;
    }
  }
  return { mocks, outputs, invitedGuests, client, state };
}
