/**
 * What the provider stand-ins share: reading the raw property values the engine sends, and talking
 * to the emulator, which holds the "cloud" (the Entra tenant) for every plugin process. The engine
 * starts a new plugin process per `pulumi` command, so nothing may live in a stand-in's memory
 * between commands.
 */
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import type { CheckFailure } from "@pulumi/pulumi/provider";
import type { World } from "../../emulator/world";

/** Env var with the emulator's base URL; the harness sets it on every CLI run. */
export const TENANT_URL_ENV = "E2E_TENANT_EMULATOR_URL";

/**
 * The provider's Configure answers that it accepts secrets, so secret values arrive wrapped as
 * `{ <sig key>: <secret sig>, value }`, at any depth. Returns the plain value.
 */
export function reveal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reveal);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[specialSigKey] === specialSecretSig) return reveal(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, reveal(v)]));
  }
  return value;
}

/** True when the value is, or contains, the engine's "unknown during preview" marker. */
export function containsUnknown(value: unknown): boolean {
  if (value === unknownValue) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") {
    return Object.values(value as Record<string, unknown>).some(containsUnknown);
  }
  return false;
}

/** Structural equality of plain JSON values (after {@link reveal}); key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((v, i) => sameValue(v, b[i]))
    );
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) =>
        sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return false;
}

/**
 * The input keys whose new value differs from the old state. Unknown new values count as changed:
 * the engine then plans a replacement, as a real provider's diff would.
 */
export function changedKeys(
  keys: readonly string[],
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
): string[] {
  return keys.filter((k) => {
    if (containsUnknown(news[k])) return true;
    const before = reveal(olds[k]) ?? defaults[k];
    const after = reveal(news[k]) ?? defaults[k];
    return !sameValue(before, after);
  });
}

/** A check failure for a required string input that is missing (unknown values pass). */
export function requireString(
  inputs: Record<string, unknown>,
  key: string,
  failures: CheckFailure[],
): void {
  const value = reveal(inputs[key]);
  if (value === unknownValue) return;
  if (typeof value !== "string" || value.trim() === "") {
    failures.push({ property: key, reason: `${key} is required and must be a non-empty string` });
  }
}

/** The emulator's base URL, or a clear failure naming the env var. */
function tenantUrl(): string {
  const url = process.env[TENANT_URL_ENV];
  if (url === undefined || url.trim() === "") {
    throw new Error(`${TENANT_URL_ENV} is not set: the e2e stand-ins need the emulator's URL`);
  }
  return url.replace(/\/+$/, "");
}

/** One call to the emulator's control API; returns the status and the parsed JSON body, if any. */
export async function control(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${tenantUrl()}/_emulator/${path}`, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/** The emulator's current world (the tenant lives in it); fails on anything but 200. */
export async function readWorld(): Promise<World> {
  const res = await control("GET", "world");
  if (res.status !== 200) {
    throw new Error(
      `reading the emulated tenant failed: HTTP ${res.status} ${messageOf(res.body)}`,
    );
  }
  return res.body as World;
}

/** The `message` of an emulator error body, else the body as JSON. */
export function messageOf(body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : JSON.stringify(body);
}

/**
 * The resource type a URN names: the last `$`-separated part of its type segment (a child's URN
 * carries its parents' types first, `parentType$childType`).
 */
export function resourceType(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}
