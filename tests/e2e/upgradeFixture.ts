/**
 * The upgrade fixture (`tests/fixtures/upgrade/`): a stack written by the previous release, as it
 * stands after its connect phase, with the world it was written against. `scripts/record-upgrade-fixture.ts`
 * records it; `upgrade.e2e.ts` imports it and runs today's code on it. What both need to agree on
 * lives here.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Deployment } from "@pulumi/pulumi/automation";
import type { World } from "../emulator/world";
import { OWNER_TOKEN, TEMPORARY_TOKEN } from "../support/programRun";

export const UPGRADE_FIXTURE_DIR = path.join(__dirname, "..", "fixtures", "upgrade");
/**
 * The stack's name, the same when recording and when importing: the URNs in the state carry it
 * (`pulumi stack import` refuses resources of another stack), and so does the previous release's
 * stack reference to itself.
 */
export const UPGRADE_STACK = "upgrade";
export const TEMPORARY = "fabrikam-migration@outlook.com";

/**
 * Tokens as the recording passed them: through the environment, never in config, so that the
 * recorded state holds no token, not even encrypted.
 */
export const UPGRADE_TOKENS_ENV: Readonly<Record<string, string>> = {
  AZDO_PERSONAL_ACCESS_TOKEN: OWNER_TOKEN,
  AZDO_TEMPORARY_OWNER_TOKEN: TEMPORARY_TOKEN,
};
/** Who those tokens authenticate as (the world is recorded without its `tokens`). */
export const UPGRADE_TOKENS: Readonly<Record<string, string>> = {
  [OWNER_TOKEN]: "jamalhartnett@fabrikam.com",
  [TEMPORARY_TOKEN]: TEMPORARY,
};

/** The files of the fixture. */
export const UPGRADE_FILES = {
  /** `pulumi stack export` after the connect phase (no secret in it). */
  state: path.join(UPGRADE_FIXTURE_DIR, "state.json"),
  /** The emulator's world at that point, without `tokens`. */
  world: path.join(UPGRADE_FIXTURE_DIR, "world.json"),
  /** The stack config (`pulumi config --json` values, full keys; objects as JSON text). */
  config: path.join(UPGRADE_FIXTURE_DIR, "config.json"),
  /** Which commit wrote them, and with what. */
  recorded: path.join(UPGRADE_FIXTURE_DIR, "recorded.json"),
} as const;

export interface UpgradeFixture {
  readonly state: Deployment;
  /** With the tokens the recording used. */
  readonly world: World;
  readonly config: Record<string, string>;
}

export function loadUpgradeFixture(): UpgradeFixture {
  const read = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"));
  const world = read(UPGRADE_FILES.world) as World & { $comment?: string };
  delete world.$comment;
  return {
    state: read(UPGRADE_FILES.state) as Deployment,
    world: { ...world, tokens: { ...UPGRADE_TOKENS } },
    config: read(UPGRADE_FILES.config) as Record<string, string>,
  };
}
