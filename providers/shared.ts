/**
 * What the four dynamic providers share: their module name, how they are configured, how an input
 * role and an address are checked, and how they wait for Azure DevOps to show a change. Functions
 * here run serialized inside the engine's dynamic-provider process: plain data and functions only
 * (no Set, Symbol or Error subclass), imports of packages inside the functions that need them.
 */
import type * as pulumi from "@pulumi/pulumi";
import { DYNAMIC_MODULE } from "../components/types";
import { CallerRole, rememberTokens } from "./credentials";

/** The `module` every dynamic resource of this program registers with (part of its type token). */
export const MODULE = DYNAMIC_MODULE;

/** `configure`: keep the tokens of the stack config for this provider process. */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  rememberTokens(req.config);
}

const ROLES: readonly CallerRole[] = ["owner", "temporaryOwner"];

/**
 * A role input, checked: an unknown value is a check failure, never silently the owner (whose
 * token would then act where the temporary owner's should).
 */
export function checkRole(
  news: Record<string, unknown>,
  property: string,
  failures: pulumi.dynamic.CheckFailure[],
): CallerRole {
  const value = news[property] ?? "owner";
  if (typeof value === "string" && (ROLES as readonly string[]).includes(value)) {
    return value as CallerRole;
  }
  failures.push({
    property,
    reason: `${property} must be one of ${ROLES.join(", ")} (got ${JSON.stringify(value)})`,
  });
  return "owner";
}

/** An address input, trimmed and lower-cased; anything without one "@" is a check failure. */
export function checkAddress(
  news: Record<string, unknown>,
  property: string,
  failures: pulumi.dynamic.CheckFailure[],
): string {
  const value = String(news[property] ?? "")
    .trim()
    .toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(value)) {
    failures.push({ property, reason: `${property} must be an email or principal name` });
  }
  return value;
}

/** Organization names compare case-insensitively; an older state may hold another spelling. */
export function sameOrganization(a: unknown, b: unknown): boolean {
  return String(a).toLowerCase() === String(b).toLowerCase();
}

/** How long to wait for Azure DevOps to show a change: attempts and the pause between them. */
export interface Patience {
  readonly attempts: number;
  readonly intervalMs: number;
}

/** Default patience: changes in Entra can take a while to show in Azure DevOps. */
export const PATIENCE: Patience = { attempts: 10, intervalMs: 3000 };

/**
 * Reads until `done` says the change is visible, at most `attempts` times; answers the last
 * reading and whether it was done.
 */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  patience: Patience,
): Promise<{ value: T; done: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const value = await read();
    if (done(value)) return { value, done: true };
    if (attempt >= patience.attempts) return { value, done: false };
    await new Promise((resolve) => setTimeout(resolve, patience.intervalMs));
  }
}

/**
 * Runs a write; when it fails, asks whether it was applied anyway (a retried write whose first
 * answer was lost meets "already done" on its retry) and fails only when it was not.
 */
export async function applied(
  write: () => Promise<void>,
  isDone: () => Promise<boolean>,
): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (!(await isDone())) throw err;
  }
}

/**
 * A read's answer: the live outputs, and the inputs later diffs compare against (so that a
 * refresh records drift without a false diff). The SDK types `inputs` as the outputs' type; the
 * inputs are a part of them.
 */
export function readResult<I, O extends I>(
  id: string,
  props: O,
  inputs: I,
): pulumi.dynamic.ReadResult<O> {
  return { id, props, inputs: inputs as O };
}
