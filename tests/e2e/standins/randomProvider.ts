/**
 * Stand-in for the `random` provider plugin, for end-to-end runs of the real Pulumi engine: the
 * real provider's Go module cannot be built here. Same package name and version as the installed
 * `@pulumi/random` SDK; only `random:index/randomPet:RandomPet` is implemented.
 *
 * As the real resource does, a pet name is drawn at random when the resource is created and then
 * lives in the state only: read and delete touch nothing, and only a change of an input (a
 * replacement) draws a new one. To reproduce a failing run, set {@link PET_REPRODUCE_ENV} to any
 * text: names are then derived from that text, the URN and the keepers.
 *
 * Served by `random.ts` (started by `bin/pulumi-resource-random`, which the harness puts on the
 * CLI's PATH); tests call {@link randomProvider} directly.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type * as provider from "@pulumi/pulumi/provider";
import { changedKeys, resourceType, reveal } from "./common";

export const RANDOM_PET = "random:index/randomPet:RandomPet";
/** Env var: a text that makes pet names reproducible (default: drawn at random, as the real one). */
export const PET_REPRODUCE_ENV = "E2E_RANDOM_PET_REPRODUCE";

// rule RP2 [doc] @pulumi/random randomPet.d.ts and hashicorp/terraform-provider-random internal/provider/resource_pet.go: length defaults to 2, separator to "-"; keepers, length, prefix and separator each force a replacement
const PET_INPUTS = ["keepers", "length", "prefix", "separator"] as const;
const DEFAULTS = { length: 2, separator: "-" };

// rule RP3 [deviates] the real provider draws from golang-petname's long word lists; these short lists are ours (names look alike: [adverbs…] adjective animal, lower case)
const ADVERBS = ["briskly", "calmly", "gladly", "neatly", "quietly", "rarely", "softly", "wisely"];
const ADJECTIVES = [
  "amber",
  "bold",
  "brave",
  "clever",
  "eager",
  "gentle",
  "jolly",
  "keen",
  "lucky",
  "merry",
  "nimble",
  "proud",
  "quick",
  "sunny",
  "tidy",
  "witty",
];
const ANIMALS = [
  "badger",
  "beaver",
  "bison",
  "crane",
  "ferret",
  "gecko",
  "heron",
  "ibex",
  "lemur",
  "marten",
  "otter",
  "panda",
  "puffin",
  "quail",
  "walrus",
  "yak",
];

function sdkVersion(): string {
  const file = require.resolve("@pulumi/random/package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/**
 * The bytes a name is drawn from: random, as the real provider draws them, or a SHA-256 of the
 * scenario's text, the URN and the keepers when {@link PET_REPRODUCE_ENV} is set.
 */
function entropy(urn: string, keepers: unknown): Buffer {
  // rule RP1 [obs] hashicorp/terraform-provider-random internal/provider/resource_pet.go: Create calls petname.NonDeterministicMode() and petname.Generate(length, separator), prefix first; Read and Delete do nothing, the name lives in the state
  const fixed = process.env[PET_REPRODUCE_ENV]?.trim();
  if (!fixed) return randomBytes(32);
  return createHash("sha256")
    .update(`${fixed}\n${urn}\n${JSON.stringify(keepers ?? {})}`, "utf8")
    .digest();
}

/** `length` words chosen by successive bytes of `digest`. */
function petName(digest: Buffer, length: number, separator: string, prefix?: string): string {
  const pick = (list: readonly string[], i: number): string => list[digest[i % 32] % list.length];
  const words = [
    ...Array.from({ length: Math.max(0, length - 2) }, (_, i) => pick(ADVERBS, i + 2)),
    ...(length >= 2 ? [pick(ADJECTIVES, 1)] : []),
    pick(ANIMALS, 0),
  ];
  return [...(prefix ? [prefix] : []), ...words].join(separator);
}

function requirePet(urn: string): void {
  const type = resourceType(urn);
  if (type !== RANDOM_PET) {
    throw new Error(`the random stand-in implements only ${RANDOM_PET} (got ${type || urn})`);
  }
}

export const randomProvider: provider.Provider = {
  version: sdkVersion(),

  async check(urn, _olds, news) {
    requirePet(urn);
    const failures: provider.CheckFailure[] = [];
    const length = reveal(news.length);
    if (length !== undefined && (!Number.isInteger(length) || (length as number) < 1)) {
      failures.push({ property: "length", reason: "length must be an integer of at least 1" });
    }
    // The real provider plans its defaults into the inputs; diffs then compare like with like.
    return { inputs: { ...DEFAULTS, ...news }, failures };
  },

  async diff(_id, urn, olds, news) {
    requirePet(urn);
    const replaces = changedKeys(PET_INPUTS, olds, news, DEFAULTS);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(urn, inputs) {
    requirePet(urn);
    const plain: Record<string, unknown> = { ...DEFAULTS, ...(reveal(inputs) as object) };
    const id = petName(
      entropy(urn, plain.keepers),
      Number(plain.length),
      String(plain.separator),
      typeof plain.prefix === "string" ? plain.prefix : undefined,
    );
    return { id, outs: inputs };
  },

  // Nothing lives outside the state: read and delete have nothing to look at.
  async read(id, urn, props) {
    requirePet(urn);
    return { id, props, inputs: props };
  },

  async delete(_id, urn) {
    requirePet(urn);
  },
};
