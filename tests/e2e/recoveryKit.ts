/**
 * What the recovery scenarios share (`recovery.e2e.ts`, `recovery-kill.e2e.ts`): the reference
 * world with a temporary owner, tokens passed through the environment as pipelines pass them, the
 * human steps between the phases, and the end state a converged migration must reach.
 */
import { strict as assert } from "node:assert";
import type { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { TenantUser } from "../emulator/world";
import { OWNER_TOKEN, TEMPORARY_TOKEN, fixture, stackConfig } from "../support/programRun";
import {
  EngineError,
  type OperationOutcome,
  type Scenario,
  type ScenarioOptions,
  newScenario,
  structuredConfig,
} from "./harness";

export const OWNER = "jamalhartnett@fabrikam.com";
export const TEMPORARY = "fabrikam-migration@outlook.com";
export const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
export const INVITEES = ["dev.someone@gmail.com", "partner@othercompany.com"];

/** Where the faults go: the user add, the owner change and the connect call (devops/). */
export const ADD_USER = { method: "POST", path: "/_apis/userentitlements" } as const;
export const CHANGE_OWNER = { method: "PATCH", path: "Organization/Collections/Me" } as const;
export const CONNECT_CALL = { method: "PATCH", path: "Organization/Organizations/Me" } as const;

/** What the connect phase needs of the reference world once its blockers are cleared. */
export const CONNECT = {
  phase: "connect",
  excludeUsers: [],
  acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
  allowTfvc: true,
} as const;

/** The mutations of a whole migration of the reference world, each once, in a valid order. */
export const MIGRATION = [
  `addUser ${TEMPORARY}`,
  `owner ${TEMPORARY}`,
  `tenant ${TENANT}`,
  "mapUser ada.lovelace@fabrikam.com -> alovelace@fabrikam.com",
  "mapUser jamal@outlook.com -> jamal@fabrikam.com",
  `owner ${OWNER}`,
  `removeUser ${TEMPORARY}`,
];

/**
 * A scenario on the reference world in the prepare phase, with the temporary owner configured
 * and both tokens in the CLI's environment (then no copy of them reaches the state).
 */
export async function recoveryScenario(
  name: string,
  options: Omit<ScenarioOptions, "env"> = {},
): Promise<Scenario> {
  const w = fixture();
  w.tokens = { [OWNER_TOKEN]: OWNER, [TEMPORARY_TOKEN]: TEMPORARY };
  const scenario = await newScenario(name, w, {
    backendQuery: "metadata=skip",
    ...options,
    env: { AZDO_PERSONAL_ACCESS_TOKEN: OWNER_TOKEN, AZDO_TEMPORARY_OWNER_TOKEN: TEMPORARY_TOKEN },
  });
  const config = structuredConfig(stackConfig(w, { temporaryOwner: { msaEmail: TEMPORARY } }));
  delete config["devops-entra-connect:devopsToken"];
  await scenario.setConfig(config);
  return scenario;
}

/** The failed operation's error, for assertions on the program's and the providers' words. */
export async function failure(run: Promise<unknown>): Promise<EngineError> {
  try {
    await run;
  } catch (err) {
    assert.ok(err instanceof EngineError, String(err));
    return err;
  }
  return assert.fail("the operation was expected to fail");
}

/** Sets (or, with undefined, clears) an env var of the next CLI runs, hence of the stand-ins. */
export function setEnv(scenario: Scenario, key: string, value: string | undefined): void {
  const vars = (scenario.stack.workspace as LocalWorkspace).envVars;
  if (value === undefined) delete vars[key];
  else vars[key] = value;
}

/** What people do between prepare and connect: redeem the invitations, sign in once. */
export function redeemAndSignIn(scenario: Scenario): void {
  for (const address of [TEMPORARY, ...INVITEES]) scenario.emulator.redeem(address);
  scenario.emulator.signIn(TEMPORARY);
}

/** The emulator's successful writes so far, as `kind value`. */
export function mutations(scenario: Scenario): string[] {
  return scenario.emulator.mutations.map((m) => `${m.kind} ${m.value}`);
}

/** Steps that change something, as `op name` (the engine's own provider steps left out). */
export function changes(o: OperationOutcome): string[] {
  return o.steps
    .filter(
      (s) => !["same", "read", "refresh"].includes(s.op) && !s.type.startsWith("pulumi:providers:"),
    )
    .map((s) => `${s.op} ${s.name}`);
}

/** The tenant's users by UPN, sorted. */
export function tenantUpns(users: readonly TenantUser[]): string[] {
  return users.map((u) => u.userPrincipalName.toLowerCase()).sort();
}

/** The tenant users whose mail is `address`. */
export function guestsWithMail(scenario: Scenario, address: string): TenantUser[] {
  return scenario.emulator.world.tenant.users.filter((u) => u.mail?.toLowerCase() === address);
}

/** The resources of the stack's state, by name (the URN's last part). */
export async function stateResources(
  scenario: Scenario,
): Promise<
  Map<string, { type: string; initErrors?: string[]; outputs?: Record<string, unknown> }>
> {
  const state = (await scenario.exportState()).deployment as {
    resources?: {
      urn: string;
      type: string;
      initErrors?: string[];
      outputs?: Record<string, unknown>;
    }[];
  };
  return new Map((state.resources ?? []).map((r) => [r.urn.slice(r.urn.lastIndexOf("::") + 2), r]));
}

/**
 * The end of a converged migration: the original owner owns the organization again, the
 * temporary account left the organization and the tenant, every tenant user there before is
 * still there, each invitee was invited once, the organization is on the tenant, and the
 * emulator saw exactly `expected` writes (as a multiset: each change made as often as listed,
 * no more), the hand-back before the removal. Nothing is left to do.
 */
export async function assertConverged(
  scenario: Scenario,
  tenantBefore: readonly string[],
  expected: readonly string[],
): Promise<void> {
  const w = scenario.emulator.world;
  assert.equal(w.owner, OWNER, "the original owner owns the organization again");
  assert.equal(w.tenantId, TENANT);
  assert.ok(
    !w.users.some((u) => u.principalName.toLowerCase() === TEMPORARY),
    "the temporary user left the organization",
  );
  assert.deepEqual(guestsWithMail(scenario, TEMPORARY), [], "its guest left the tenant");
  for (const address of INVITEES) {
    assert.equal(guestsWithMail(scenario, address).length, 1, `${address} invited once, and kept`);
  }
  const now = new Set(tenantUpns(w.tenant.users));
  assert.deepEqual(
    tenantBefore.filter((upn) => !now.has(upn)),
    [],
    "every tenant user there before is still there",
  );
  const done = mutations(scenario);
  assert.deepEqual([...done].sort(), [...expected].sort(), "each change made as often as listed");
  const handBack = done.lastIndexOf(`owner ${OWNER}`);
  assert.ok(handBack >= 0 && handBack < done.indexOf(`removeUser ${TEMPORARY}`), done.join("\n"));
  assert.deepEqual(changes(await scenario.preview()), [], "nothing is left to do");
}
