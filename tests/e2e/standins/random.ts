/**
 * Stand-in for the `random` provider plugin, for end-to-end runs of the real Pulumi engine: the
 * real provider's Go module cannot be built here. Same package name and version as the installed
 * `@pulumi/random` SDK; only `random:index/randomPet:RandomPet` is implemented.
 *
 * The pet name is derived from a hash of the URN and the keepers instead of a random source, so
 * two runs of a test propose the same address and a failure reproduces. As with the real resource,
 * the value is kept in the state and only a change of an input (a replacement) yields a new one.
 *
 * Started by `bin/pulumi-resource-random`, which the harness puts on the CLI's PATH.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as provider from "@pulumi/pulumi/provider";
import { changedKeys, resourceType, reveal } from "./common";

export const RANDOM_PET = "random:index/randomPet:RandomPet";

/** Every RandomPet input forces a replacement in the real provider. */
const PET_INPUTS = ["keepers", "length", "prefix", "separator"] as const;
const DEFAULTS = { length: 2, separator: "-" };

// Small word lists written for these tests; a pet is [adverbs…] adjective animal.
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

/** `length` words chosen by successive bytes of a SHA-256 of the seed. */
function petName(seed: string, length: number, separator: string, prefix?: string): string {
  const digest = createHash("sha256").update(seed, "utf8").digest();
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

const random: provider.Provider = {
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
      `${urn}\n${JSON.stringify(plain.keepers ?? {})}`,
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

void provider.main(random, process.argv.slice(2));
