/**
 * Benchmark: the resolve phase for an organization whose users the connection left disconnected.
 *
 *   npm run bench                       # runs this after the 10,000-user evaluation
 *   npx tsx bench/resolve-1k.ts --users 2000
 *
 * The program is evaluated under mocks (phase `resolve`), then every `UserMapping` it declares is
 * created through its serialized provider against the emulator (real HTTP on loopback), the way the
 * engine would. Prints requests and time as a Markdown table.
 */
import { performance } from "node:perf_hooks";
import { BASE_URL_ENV } from "../devops/hosts";
import { startEmulator } from "../tests/emulator/server";
import type { World } from "../tests/emulator/world";
import { providerConfig } from "../tests/support/engineLike";
import { MiniEngine } from "../tests/support/miniEngine";
import { OWNER_TOKEN, runProgram, stackConfig } from "../tests/support/programRun";
import { TYPES, WorldMocks } from "../tests/support/worldMocks";

const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

/** A connected organization: the owner is bound, `users` others are disconnected guests-to-be-mapped. */
function disconnectedWorld(users: number): World {
  const world: World = {
    organization: "fabrikam",
    owner: "owner@fabrikam.com",
    tenantId: TENANT,
    users: [{ principalName: "owner@fabrikam.com", origin: "aad" }],
    projects: [{ name: "web", sourceControlType: "Git" }],
    tenant: {
      id: TENANT,
      domains: ["fabrikam.com", "fabrikam.onmicrosoft.com"],
      users: [
        { userPrincipalName: "owner@fabrikam.com", mail: "owner@fabrikam.com", userType: "Member" },
      ],
    },
    caller: "owner@fabrikam.com",
    tokens: { [OWNER_TOKEN]: "owner@fabrikam.com" },
  };
  for (let i = 0; i < users; i++) {
    world.users.push({ principalName: `user${i}@partner.org`, origin: "msa" });
    world.tenant.users.push({
      userPrincipalName: `user${i}_partner.org#EXT#@fabrikam.onmicrosoft.com`,
      mail: `user${i}@partner.org`,
      userType: "Guest",
    });
  }
  return world;
}

async function main(): Promise<void> {
  const arg = process.argv.indexOf("--users");
  const users = arg > 0 ? Number(process.argv[arg + 1]) : 1_000;
  const emulator = await startEmulator({ world: disconnectedWorld(users) });
  const saved = process.env[BASE_URL_ENV];
  process.env[BASE_URL_ENV] = emulator.url;
  try {
    let t = performance.now();
    const run = await runProgram(
      emulator,
      new WorldMocks(emulator.world),
      stackConfig(emulator.world, { phase: "resolve", identityChanges: {}, excludeUsers: [] }),
    );
    const evaluationMs = performance.now() - t;
    const evaluationRequests = emulator.requests.length;
    const declared = run.mocks.registered(TYPES.userMapping).length;

    const engine = new MiniEngine(
      emulator,
      providerConfig({ "devops-entra-connect:devopsToken": OWNER_TOKEN }),
    );
    const before = emulator.requests.length;
    t = performance.now();
    await engine.apply(run.mocks.registrations);
    const applyMs = performance.now() - t;
    const applyRequests = emulator.requests.length - before;
    const mapped = emulator.mutations.filter((m) => m.kind === "mapUser").length;
    const stillDisconnected = emulator.world.users.filter((u) => u.origin !== "aad").length;

    const rows: [string, string][] = [
      ["disconnected users", users.toLocaleString("en-US")],
      ["mappings declared by the program", declared.toLocaleString("en-US")],
      [
        "program evaluation (inventory + plan), wall / Azure DevOps requests",
        `${(evaluationMs / 1000).toFixed(1)} s / ${evaluationRequests}`,
      ],
      ["applying the mappings, wall", `${(applyMs / 1000).toFixed(1)} s`],
      [
        "applying the mappings, Azure DevOps requests",
        `${applyRequests} (${(applyRequests / Math.max(1, mapped)).toFixed(1)} per user)`,
      ],
      ["users mapped / still disconnected", `${mapped} / ${stillDisconnected}`],
    ];
    console.log(
      `\n\`npx tsx bench/resolve-1k.ts --users ${users}\` · node ${process.version} · ${new Date().toISOString().slice(0, 10)}\n`,
    );
    console.log("| measure | value |\n| --- | ---: |");
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  } finally {
    if (saved === undefined) delete process.env[BASE_URL_ENV];
    else process.env[BASE_URL_ENV] = saved;
    await emulator.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
