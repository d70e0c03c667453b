/**
 * Benchmark: the real Pulumi engine (`pulumi preview` and `pulumi up` of the prepare phase) for
 * organizations of 100, 1,000 and 5,000 users, next to the engine's own cost for as many trivial
 * resources (`random:index/randomPet:RandomPet`, through the same stand-in plugin mechanism) in the
 * same run, so the ratio shows what the program adds.
 *
 *   npm run bench:engine                 # 100, 1000, 5000
 *   npm run bench:engine -- --users 100,1000
 *
 * Both run as users run them: the CLI in a project folder (the baseline's is `bench/trivial/`).
 * Peak memory is the resident memory of every process this one started (the CLI, the language
 * host running the program, the plugins), sampled every 50 ms from /proc.
 */
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { OWNER_TOKEN } from "../tests/support/programRun";
import { type Scenario, cliStatus, ensureCli, newScenario } from "../tests/e2e/harness";
import { largeWorld } from "./program-10k";

/** Resident set size (bytes) of this process and all its descendants. */
function treeRss(): number {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      parents.set(Number(entry), ppid);
      rss.set(Number(entry), kb * 1024);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  for (const [pid, bytes] of rss) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
      if (p === process.pid) {
        total += bytes;
        break;
      }
    }
  }
  return total;
}

/** Runs `op`, returning its wall time and the peak tree RSS while it ran. */
async function measure<T>(op: () => Promise<T>): Promise<{ result: T; ms: number; peak: number }> {
  let peak = treeRss();
  const timer = setInterval(() => (peak = Math.max(peak, treeRss())), 50);
  const started = Date.now();
  try {
    const result = await op();
    return { result, ms: Date.now() - started, peak: Math.max(peak, treeRss()) };
  } finally {
    clearInterval(timer);
  }
}

interface Row {
  users: number;
  resources: number;
  preview: { ms: number; peak: number };
  up: { ms: number; peak: number };
  trivialPreview: { ms: number; peak: number };
  trivialUp: { ms: number; peak: number };
}

async function run(users: number): Promise<Row> {
  const world = largeWorld(users);
  world.tokens = { [OWNER_TOKEN]: world.owner };
  let scenario: Scenario | undefined;
  let trivial: Scenario | undefined;
  try {
    scenario = await newScenario(`bench-${users}`, world, { backendQuery: "metadata=skip" });
    await scenario.setConfig({
      organization: world.organization,
      tenantId: world.tenant.id,
      devopsToken: OWNER_TOKEN,
    });
    const preview = await measure(() => scenario!.preview());
    const up = await measure(() => scenario!.up());
    const resources = up.result.steps.filter((s) => !s.type.startsWith("pulumi:providers:")).length;

    const count = resources;
    trivial = await newScenario(`bench-trivial-${users}`, world, {
      backendQuery: "metadata=skip",
      project: path.join(__dirname, "trivial"),
    });
    await trivial.setConfig({ "devops-entra-connect-baseline:count": count });
    const trivialPreview = await measure(() => trivial!.preview());
    const trivialUp = await measure(() => trivial!.up());
    return {
      users,
      resources,
      preview: { ms: preview.ms, peak: preview.peak },
      up: { ms: up.ms, peak: up.peak },
      trivialPreview: { ms: trivialPreview.ms, peak: trivialPreview.peak },
      trivialUp: { ms: trivialUp.ms, peak: trivialUp.peak },
    };
  } finally {
    await scenario?.cleanup();
    await trivial?.cleanup();
  }
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mib = (b: number): string => `${Math.round(b / 1024 / 1024)} MiB`;

async function main(): Promise<void> {
  const arg = process.argv.indexOf("--users");
  const sizes = arg > 0 ? process.argv[arg + 1].split(",").map(Number) : [100, 1000, 5000];
  await ensureCli();
  const cli = cliStatus()?.version ?? "?";
  const rows: Row[] = [];
  for (const users of sizes) rows.push(await run(users));
  console.log(
    `\n\`npm run bench:engine\` · Pulumi CLI ${cli} · node ${process.version} · ${new Date().toISOString().slice(0, 10)}\n`,
  );
  console.log(
    "| users | resources | preview | up | peak RSS (preview / up) | trivial preview | trivial up | trivial peak RSS (up) | ratio up / trivial up |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.users.toLocaleString("en-US")} | ${r.resources} | ${s(r.preview.ms)} | ${s(r.up.ms)} | ${mib(r.preview.peak)} / ${mib(r.up.peak)} | ${s(r.trivialPreview.ms)} | ${s(r.trivialUp.ms)} | ${mib(r.trivialUp.peak)} | ${(r.up.ms / r.trivialUp.ms).toFixed(2)} |`,
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
