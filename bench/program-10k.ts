/**
 * Benchmark: one evaluation of the program, under Pulumi mocks, for a large organization.
 *
 *   npm run bench                 # 10,000 organization users
 *   npm run bench -- --users 2000
 *
 * The Azure DevOps emulator runs in a child process (real HTTP on loopback, 100 entitlements per
 * page as the service pages), so the memory figures are the program's own. The tenant invokes are
 * answered by the same mocks as the tests. Prints a Markdown table.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../config/load";
import { DevOpsClient } from "../devops/client";
import { resolveDevOpsCredential } from "../devops/credentials";
import { BASE_URL_ENV } from "../devops/hosts";
import { planMigration } from "../plan/plan";
import { migrationProgram } from "../program";
import type { TenantUser, World, WorldUser } from "../tests/emulator/world";
import { WorldMocks, unwrap } from "../tests/support/worldMocks";

const TENANT_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

/** A world with the category mix of a real organization, plus as many tenant users again. */
export function largeWorld(users: number): World {
  const orgUsers: WorldUser[] = [];
  const tenantUsers: TenantUser[] = [
    { userPrincipalName: "owner@fabrikam.com", mail: "owner@fabrikam.com", userType: "Member" },
  ];
  orgUsers.push({ principalName: "owner@fabrikam.com", origin: "aad" });
  for (let i = 1; i < users; i++) {
    const r = i % 100;
    if (r < 60) {
      orgUsers.push({ principalName: `member${i}@fabrikam.com`, origin: "msa" });
      tenantUsers.push({
        userPrincipalName: `member${i}@fabrikam.com`,
        mail: `member${i}@fabrikam.com`,
        userType: "Member",
      });
    } else if (r < 70) {
      orgUsers.push({ principalName: `guest${i}@partner.org`, origin: "msa" });
      tenantUsers.push({
        userPrincipalName: `guest${i}_partner.org#EXT#@fabrikam.onmicrosoft.com`,
        mail: `guest${i}@partner.org`,
        userType: "Guest",
      });
    } else if (r < 95) {
      orgUsers.push({
        principalName: `invitee${i}@${r % 2 ? "gmail.com" : "othercompany.com"}`,
        origin: "msa",
      });
    } else if (r < 98) {
      orgUsers.push({ principalName: `mover${i}@outlook.com`, origin: "msa" });
      tenantUsers.push({
        userPrincipalName: `mover${i}@fabrikam.com`,
        mail: `mover${i}@fabrikam.com`,
        userType: "Member",
      });
    } else if (r < 99) {
      orgUsers.push({
        principalName: `leaver${i}@othercompany.com`,
        origin: "msa",
        status: "disabled",
      });
    } else {
      orgUsers.push({ principalName: `old${i}@fabrikam.com`, origin: "msa" });
    }
  }
  for (let i = 0; i < users; i++) {
    tenantUsers.push({
      userPrincipalName: `staff${i}@fabrikam.com`,
      mail: `staff${i}@fabrikam.com`,
      userType: "Member",
    });
  }
  return {
    organization: "fabrikam",
    owner: "owner@fabrikam.com",
    tenantId: null,
    users: orgUsers,
    projects: Array.from({ length: 20 }, (_, i) => ({
      name: `project${i}`,
      sourceControlType: "Git" as const,
    })),
    tenant: {
      id: TENANT_ID,
      domains: ["fabrikam.com", "fabrikam.onmicrosoft.com"],
      users: tenantUsers,
    },
    caller: "owner@fabrikam.com",
  };
}

async function startEmulatorProcess(fixture: string): Promise<{ url: string; stop: () => void }> {
  const tsx = path.join(__dirname, "..", "node_modules", ".bin", "tsx");
  const child = spawn(
    tsx,
    [
      path.join(__dirname, "..", "tests", "emulator", "cli.ts"),
      "--port",
      "0",
      "--fixture",
      fixture,
    ],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  const first = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    createInterface({ input: child.stdout }).once("line", resolve);
  });
  const url = /^listening on (http:\/\/\S+)$/.exec(first)?.[1];
  if (!url) throw new Error(`unexpected emulator output: ${first}`);
  return { url, stop: () => child.kill("SIGTERM") };
}

/** A resource with no inputs: what the SDK costs per registration, whatever the provider. */
class Trivial extends pulumi.CustomResource {
  constructor(name: string) {
    super("bench:index:Trivial", name, {});
  }
}

/** How many users of {@link largeWorld} are invited once the bench's config is applied. */
const invitationsIn = (world: World): number =>
  world.users.filter((u) => u.principalName.startsWith("invitee")).length;

const ms = (t: number): string => `${t.toFixed(0)} ms`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const arg = process.argv.indexOf("--users");
  const users = arg > 0 ? Number(process.argv[arg + 1]) : 10_000;
  if (!Number.isInteger(users) || users < 2) throw new Error("--users must be an integer ≥ 2");
  const world = largeWorld(users);
  const dir = mkdtempSync(path.join(tmpdir(), "dec-bench-"));
  const fixture = path.join(dir, "world.json");
  writeFileSync(fixture, JSON.stringify(world));
  const emulator = await startEmulatorProcess(fixture);
  const env = { [BASE_URL_ENV]: emulator.url };
  const rssBefore = process.memoryUsage().rss;
  const expectedInvitations = invitationsIn(world);
  try {
    // 0. The SDK's own cost for as many trivial resources as step 3 registers invitations, for comparison.
    await pulumi.runtime.setMocks(
      { call: () => ({}), newResource: (a) => ({ id: a.name, state: a.inputs }) },
      "devops-entra-connect",
      "bench-trivial",
      false,
      "organization",
    );
    let t = performance.now();
    const trivial = Array.from(
      { length: expectedInvitations },
      (_, i) => new Trivial(`trivial-${i}`),
    );
    await Promise.all(trivial.map((r) => unwrap(r.urn)));
    const trivialMs = performance.now() - t;

    // 1. The inventory calls alone.
    const client = new DevOpsClient({
      organization: "fabrikam",
      credential: resolveDevOpsCredential({ configToken: "bench" }),
      env,
    });
    t = performance.now();
    const cpu = process.cpuUsage();
    const { users: listed } = await client.listUsers();
    const listMs = performance.now() - t;
    const listCpu = process.cpuUsage(cpu);
    const listRequests = client.requestCount;

    // 2. The plan alone, on the same data.
    const mocks = new WorldMocks(world);
    const tenant = world.tenant.users.map((u) => ({
      objectId: u.userPrincipalName,
      userPrincipalName: u.userPrincipalName,
      ...(u.mail ? { mail: u.mail } : {}),
      kind: u.userPrincipalName.includes("#EXT#") ? ("guest" as const) : ("member" as const),
    }));
    t = performance.now();
    const plan = planMigration({
      organization: { name: "fabrikam", url: "https://dev.azure.com/fabrikam" },
      tenantId: TENANT_ID,
      phase: "prepare",
      organizationTenantId: null,
      ownerId: listed[0].id,
      users: listed,
      projects: [],
      tenant: { users: tenant, verifiedDomains: world.tenant.domains },
      identityChanges: new Map(),
      acceptHistoricUsers: new Set(),
      excludeUsers: new Set(),
      invitationUserType: "Guest",
      previouslyInvited: new Set(),
      previouslyMapped: new Map(),
    });
    const planMs = performance.now() - t;

    // 3. The whole program, as `pulumi preview` would evaluate it (registrations included).
    await pulumi.runtime.setMocks(mocks, "devops-entra-connect", "bench", false, "organization");
    const identityChanges = Object.fromEntries(
      world.users
        .filter((u) => u.principalName.startsWith("mover"))
        .map((u) => [u.principalName, u.principalName.replace("@outlook.com", "@fabrikam.com")]),
    );
    pulumi.runtime.setAllConfig(
      {
        "devops-entra-connect:organization": "fabrikam",
        "devops-entra-connect:tenantId": TENANT_ID,
        "devops-entra-connect:identityChanges": JSON.stringify(identityChanges),
        "devops-entra-connect:excludeUsers": JSON.stringify(
          world.users.filter((u) => u.status === "disabled").map((u) => u.principalName),
        ),
        "devops-entra-connect:acceptHistoricUsers": JSON.stringify(
          world.users.filter((u) => u.principalName.startsWith("old")).map((u) => u.principalName),
        ),
        "devops-entra-connect:devopsToken": "bench-token",
      },
      ["devops-entra-connect:devopsToken"],
    );
    let programClient: DevOpsClient | undefined;
    t = performance.now();
    const steps: Record<string, number> = {};
    const outputs = await migrationProgram(loadConfig(), {
      env,
      onClient: (c) => (programClient = c),
      onStep: (step, stepMs) => (steps[step] = stepMs),
    });
    const evaluatedMs = performance.now() - t;
    const invited = await unwrap(outputs.invitedGuests);
    const totalMs = performance.now() - t;
    const peak = process.resourceUsage().maxRSS * 1024;
    const summary = (await Promise.resolve(outputs.migrationPlan)).summary;

    const rows: [string, string][] = [
      ["organization users", users.toLocaleString("en-US")],
      ["tenant users", world.tenant.users.length.toLocaleString("en-US")],
      ["invitations registered", invited.length.toLocaleString("en-US")],
      ["Azure DevOps requests (whole program)", String(programClient?.requestCount)],
      ["directory invokes (whole program)", String(mocks.invokes.length)],
      ["program evaluation, wall time", ms(totalMs)],
      ["— inventory (Azure DevOps HTTP + directory invokes, in parallel)", ms(steps.inventory)],
      ["— plan", ms(steps.plan)],
      ["— declaring the invitations (azuread SDK constructors)", ms(steps["declare resources"])],
      ["— until every registration resolved", ms(totalMs - evaluatedMs)],
      [
        `${invited.length.toLocaleString("en-US")} trivial resources, same SDK and mocks`,
        ms(trivialMs),
      ],
      [`list users alone: ${listRequests} requests, wall (emulator included)`, ms(listMs)],
      ["list users alone: CPU in the program", ms((listCpu.user + listCpu.system) / 1000)],
      ["plan alone (pure function)", ms(planMs)],
      ["peak RSS of the process", mib(peak)],
      ["RSS before the run (Node + modules)", mib(rssBefore)],
    ];
    console.log(
      `\n\`npm run bench -- --users ${users}\` · node ${process.version} · ${new Date().toISOString().slice(0, 10)}\n`,
    );
    console.log("| measure | value |\n| --- | ---: |");
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    console.log(
      `\nplan summary: ${JSON.stringify(summary)} (plan alone, without config: ${JSON.stringify(plan.summary)})`,
    );
  } finally {
    emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
