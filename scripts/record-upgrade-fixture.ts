/**
 * Records the upgrade fixture (`tests/fixtures/upgrade/`): the previous release's program, run by
 * this repository's end-to-end harness (the real engine, the emulator, the stand-ins) from another
 * checkout, walks the reference world through prepare, the people's steps (redeeming the
 * invitations, the temporary owner's first sign-in) and connect. Then it saves the stack's state,
 * the world and the stack config for `tests/e2e/upgrade.e2e.ts`.
 *
 *   git worktree add --detach /tmp/old <commit> && (cd /tmp/old && npm ci)
 *   npx tsx scripts/record-upgrade-fixture.ts /tmp/old
 *
 * Tokens go through the environment, so the state holds none, not even encrypted; the script
 * checks that before it writes anything.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import { CONFIG_NAMESPACE } from "../config/schema";
import type { World } from "../tests/emulator/world";
import {
  type OperationOutcome,
  type Scenario,
  cliStatus,
  ensureCli,
  newScenario,
  structuredConfig,
} from "../tests/e2e/harness";
import {
  TEMPORARY,
  UPGRADE_FILES,
  UPGRADE_FIXTURE_DIR,
  UPGRADE_STACK,
  UPGRADE_TOKENS,
  UPGRADE_TOKENS_ENV,
} from "../tests/e2e/upgradeFixture";
import { fixture, stackConfig } from "../tests/support/programRun";

const INVITEES = ["dev.someone@gmail.com", "partner@othercompany.com"];

/** Steps that change something (the engine's own provider steps left out). */
const changes = (o: OperationOutcome): string[] =>
  o.steps
    .filter(
      (s) => !["same", "read", "refresh"].includes(s.op) && !s.type.startsWith("pulumi:providers:"),
    )
    .map((s) => `${s.op} ${s.name}`);

function oldCheckout(): { dir: string; commit: string } {
  const given = process.argv[2];
  if (!given) {
    throw new Error("usage: npx tsx scripts/record-upgrade-fixture.ts <previous release checkout>");
  }
  const dir = path.resolve(given);
  for (const needed of ["Pulumi.yaml", "index.ts", "node_modules"]) {
    if (!existsSync(path.join(dir, needed))) {
      throw new Error(`${dir} has no ${needed}: check out the release and run npm ci there`);
    }
  }
  const git = (...args: string[]): string =>
    execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
  if (git("status", "--porcelain") !== "") throw new Error(`${dir} has local changes`);
  return { dir, commit: git("rev-parse", "HEAD") };
}

/** Prepare, the people's steps, connect: the previous release's runbook on the reference world. */
async function walk(scenario: Scenario): Promise<void> {
  const prepare = await scenario.up();
  console.log(`prepare: ${changes(prepare).join(", ")}`);
  await scenario.setConfig({
    phase: "connect",
    excludeUsers: [],
    acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
    allowTfvc: true,
  });
  for (const address of [TEMPORARY, ...INVITEES]) scenario.emulator.redeem(address);
  scenario.emulator.signIn(TEMPORARY);
  const connect = await scenario.up();
  console.log(`connect: ${changes(connect).join(", ")}`);
  const again = await scenario.preview();
  if (changes(again).length > 0) {
    throw new Error(`the previous release does not converge: ${changes(again).join(", ")}`);
  }
}

/**
 * The state, refused when it holds a token or a secret; without the engine's `sourcePosition`
 * entries, which name the recording machine's checkout and which no step reads.
 */
function checkedState(state: unknown): unknown {
  const text = JSON.stringify(state, (key, value: unknown) =>
    key === "sourcePosition" ? undefined : value,
  );
  for (const token of Object.keys(UPGRADE_TOKENS)) {
    if (text.includes(token)) throw new Error("the exported state holds a token");
  }
  if (text.includes("ciphertext")) throw new Error("the exported state holds a secret");
  return JSON.parse(text);
}

/** Writes `value` as JSON the way the repository formats it (`npm test` checks the format). */
async function writeJson(file: string, value: unknown): Promise<void> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(JSON.stringify(value), { ...options, filepath: file }));
}

async function main(): Promise<void> {
  const old = oldCheckout();
  await ensureCli();
  const world: World = { ...fixture(), tokens: { ...UPGRADE_TOKENS } };
  const scenario = await newScenario("upgrade-record", world, {
    project: old.dir,
    stackName: UPGRADE_STACK,
    backendQuery: "metadata=skip",
    env: UPGRADE_TOKENS_ENV,
  });
  try {
    const config = structuredConfig(
      stackConfig(world, { temporaryOwner: { msaEmail: TEMPORARY } }),
    );
    delete config[`${CONFIG_NAMESPACE}:devopsToken`];
    await scenario.setConfig(config);
    await walk(scenario);

    const state = checkedState(await scenario.exportState());
    const recordedConfig = Object.fromEntries(
      Object.entries(await scenario.stack.getAllConfig()).map(([key, v]) => {
        if (v.secret) throw new Error(`${key} is a secret: the fixture holds no secret`);
        return [key, v.value];
      }),
    );
    const { tokens: _tokens, ...recordedWorld } = scenario.emulator.world;
    mkdirSync(UPGRADE_FIXTURE_DIR, { recursive: true });
    await writeJson(UPGRADE_FILES.state, state);
    await writeJson(UPGRADE_FILES.world, recordedWorld);
    await writeJson(UPGRADE_FILES.config, recordedConfig);
    await writeJson(UPGRADE_FILES.recorded, {
      commit: old.commit,
      stack: UPGRADE_STACK,
      phases: ["prepare", "connect"],
      cli: cliStatus()?.version,
    });
    console.log(`recorded ${old.commit} into ${path.relative(process.cwd(), UPGRADE_FIXTURE_DIR)}`);
    console.log(
      scenario
        .timings()
        .map((t) => `${t.operation} ${(t.ms / 1000).toFixed(1)} s`)
        .join("; "),
    );
  } finally {
    await scenario.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
