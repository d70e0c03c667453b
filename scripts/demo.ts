/**
 * `npm run demo`: the whole migration, `prepare` → `connect` → `resolve` → `cleanup`, run by the
 * real Pulumi engine the way users run it (the CLI in a project folder), against the sandbox: the
 * Azure DevOps emulator and the azuread/random stand-ins, which keep the organization and its
 * tenant in one emulated world. No Azure, no network.
 *
 *   npm run demo                                  # the runbook's fabrikam (tests/fixtures/world.json)
 *   npm run demo -- --world my-world.json         # another world fixture (tests/emulator/world.ts)
 *   npm run demo -- --world w.json --config c.yaml  # plus operator settings (a Pulumi.<stack>.yaml)
 *   npm run demo -- --dir /tmp/demo               # where the stack is left (default: a new temp dir)
 *
 * The steps people take outside any API (creating the temporary Microsoft account and its token,
 * redeeming invitations, the first sign-in) are played through the emulator's control endpoints,
 * and the demo says so each time. Blockers are cleared as an operator would, by the config keys the
 * program names. It ends with every user and the identity they are bound to, checked against the
 * plan the connect phase applied (exit code 1 when any user is not bound as planned), and leaves
 * the stack for `pulumi stack output` with the commands to get there.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { load as parseYaml } from "js-yaml";
import { CONFIG_NAMESPACE } from "../config/schema";
import type { FindingCode, MigrationPlan, PlannedUser } from "../plan/types";
import {
  TEST_PASSPHRASE,
  EngineError,
  type OperationOutcome,
  type Scenario,
  type UpOutcome,
  cliKitDir,
  configCommands,
  ensureCli,
  newScenario,
} from "../tests/e2e/harness";
import {
  type World,
  boundObjectId,
  externalAddressOf,
  indexTenant,
  loadWorld,
  normalizeWorld,
  tenantUsersMatching,
} from "../tests/emulator/world";

const REPO = path.resolve(__dirname, "..");
const REFERENCE_WORLD = path.join(REPO, "tests", "fixtures", "world.json");
/** The runbook's example stack for the reference world: the operator's settings. */
const REFERENCE_CONFIG = path.join(REPO, "Pulumi.dev.yaml");
const USAGE =
  "usage: npm run demo -- [--world <world.json>] [--config <Pulumi.<stack>.yaml>] [--dir <dir>]";

/** Blockers that the temporary-owner path clears: the owner cannot, or may not, connect. */
const OWNER_CANNOT_CONNECT: readonly FindingCode[] = [
  "TEMPORARY_OWNER_REQUIRED",
  "OWNER_NOT_TENANT_MEMBER",
  "CONNECTING_USER_NOT_ACTIVE_MEMBER",
];

// ---------------------------------------------------------------------------------------------
// Output.

const started = Date.now();
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function heading(title: string): void {
  say();
  say(bold(`━━ ${title} ${"━".repeat(Math.max(3, 76 - title.length))}`));
}
const command = (line: string): void => say(`${dim("$")} ${line}`);
const human = (line: string): void => say(`${bold("[a person, played by the demo]")} ${line}`);
const note = (line: string): void => say(dim(`  ${line}`));

const SYMBOLS: Record<string, string> = {
  create: "+",
  delete: "-",
  update: "~",
  replace: "+-",
  "create-replacement": "+-",
  "delete-replaced": "--",
};

/** The resource changes of an operation, as `pulumi preview` lists them. */
function showChanges(outcome: OperationOutcome): void {
  const changes = outcome.steps.filter(
    (s) =>
      !["same", "read", "refresh"].includes(s.op) &&
      !s.type.startsWith("pulumi:providers:") &&
      s.type !== "pulumi:pulumi:Stack",
  );
  if (changes.length === 0) note("no resource changes");
  for (const s of changes) {
    const type = s.type.slice(s.type.lastIndexOf(":") + 1);
    say(`  ${(SYMBOLS[s.op] ?? s.op).padEnd(3)}${type.padEnd(20)}${s.name}`);
  }
}

/** The program's blockers and warnings, as the preview printed them. */
function showFindings(outcome: OperationOutcome): void {
  for (const d of outcome.diagnostics) {
    if (d.severity !== "warning" || !/^(blocker )?[A-Z][A-Z_]+:/.test(d.message)) continue;
    const [first] = d.message.split(/(?<=\.) /);
    say(`  ${d.message.startsWith("blocker ") ? "✗" : "!"} ${first}`);
  }
}

/** What an update's summary counts, as changes; `same` and the ledger's `read` are none. */
const PAST: Record<string, string> = {
  create: "created",
  update: "updated",
  delete: "deleted",
  replace: "replaced",
};

const CATEGORY_NAMES: Record<string, string> = {
  tenantMember: "tenant members",
  tenantGuest: "tenant guests",
  invite: "invited",
  mapAfterConnect: "to map after the connection",
  supportTicket: "support ticket",
  acceptedHistoric: "accepted as historic",
  excluded: "excluded",
  historic: "would become historic",
};

/** The report's summary: users per category, and what stands in the way. */
function showPlan(plan: MigrationPlan): void {
  const counts = Object.entries(plan.summary)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${n} ${CATEGORY_NAMES[c] ?? c}`);
  say(`  report: ${plan.users.length} users: ${counts.join(", ")}`);
  say(
    `          ${plan.blockers.length} blocker(s)${plan.blockers.length ? `: ${plan.blockers.map((b) => b.code).join(", ")}` : ""}; ${plan.warnings.length} warning(s)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Inputs.

interface Args {
  readonly world: string;
  readonly config?: string;
  readonly dir?: string;
}

function parseCommandLine(): Args {
  let values: { world?: string; config?: string; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        world: { type: "string" },
        config: { type: "string" },
        dir: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    say(USAGE);
    process.exit(0);
  }
  const world = path.resolve(values.world ?? REFERENCE_WORLD);
  const config =
    values.config !== undefined
      ? path.resolve(values.config)
      : world === REFERENCE_WORLD
        ? REFERENCE_CONFIG
        : undefined;
  return { world, ...(config ? { config } : {}), ...(values.dir ? { dir: values.dir } : {}) };
}

/**
 * The operator's settings from a stack settings file (`config:` with keys of this program's
 * namespace). Organization and tenant come from the world; a file that names others is refused.
 */
function operatorSettings(file: string | undefined, world: World): Record<string, unknown> {
  if (file === undefined) return {};
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`--config ${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (config === null || typeof config !== "object") {
    throw new Error(`--config ${file}: no \`config:\` map, as in a Pulumi.<stack>.yaml`);
  }
  const settings: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(config)) {
    const [namespace, key] = fullKey.split(":");
    if (namespace !== CONFIG_NAMESPACE || key === undefined) {
      throw new Error(`--config ${file}: ${fullKey} is not a ${CONFIG_NAMESPACE}: key`);
    }
    if (value !== null && typeof value === "object" && "secure" in value) {
      throw new Error(`--config ${file}: ${fullKey} is a secret; the demo makes its own tokens`);
    }
    settings[key] = value;
  }
  const named = String(settings.organization ?? world.organization).replace(/^.*\//, "");
  if (named.toLowerCase() !== world.organization.toLowerCase()) {
    throw new Error(
      `--config ${file} is for organization ${named}, the world for ${world.organization}`,
    );
  }
  if (settings.tenantId !== undefined && String(settings.tenantId) !== world.tenant.id) {
    throw new Error(
      `--config ${file} is for tenant ${String(settings.tenantId)}, the world for ${world.tenant.id}`,
    );
  }
  delete settings.organization;
  delete settings.tenantId;
  delete settings.phase;
  return settings;
}

// ---------------------------------------------------------------------------------------------
// The walk.

const token = (): string => randomBytes(24).toString("base64url");
const planOf = (up: UpOutcome): MigrationPlan => up.outputs.migrationPlan?.value as MigrationPlan;

class Walk {
  constructor(
    private readonly scenario: Scenario,
    private readonly organization: string,
  ) {}

  async config(values: Record<string, unknown>): Promise<void> {
    for (const line of configCommands(values)) command(line);
    await this.scenario.setConfig(values);
  }

  async preview(): Promise<OperationOutcome> {
    command("pulumi preview");
    const preview = await this.scenario.preview();
    showChanges(preview);
    showFindings(preview);
    note(`(${seconds(preview.ms)})`);
    return preview;
  }

  /** A preview the program may refuse; returns the blocker codes its message lists (none: it ran). */
  async blockers(): Promise<FindingCode[]> {
    command("pulumi preview");
    try {
      const preview = await this.scenario.preview();
      showChanges(preview);
      note(`no blocker stands (${seconds(preview.ms)})`);
      return [];
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      const lines = err.message.split("\n").filter((l) => /^ {2}- [A-Z_]+:/.test(l));
      if (lines.length === 0) throw err;
      say(`  refused: ${err.message.split("\n")[1]}`);
      for (const l of lines) say(`  ✗ ${l.slice(4).split(/(?<=\.) /)[0]}`);
      return lines.map((l) => l.slice(4, l.indexOf(":")) as FindingCode);
    }
  }

  async up(): Promise<UpOutcome> {
    command("pulumi up --yes");
    const up = await this.scenario.up();
    const counts = Object.entries(up.summary)
      .filter(([op, n]) => PAST[op] !== undefined && n > 0)
      .map(([op, n]) => `${n} ${PAST[op]}`);
    note(`applied: ${counts.join(", ") || "nothing to change"} (${seconds(up.ms)})`);
    showPlan(planOf(up));
    return up;
  }

  async emulator(what: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.scenario.emulator.url}/_emulator/${what}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`emulator ${what} answered ${res.status}: ${await res.text()}`);
  }

  redeem(address: string): Promise<void> {
    human(
      `${address} opens the invitation email and accepts it (emulator: POST /_emulator/redeem)`,
    );
    return this.emulator("redeem", { address });
  }

  get url(): string {
    return `https://dev.azure.com/${this.organization}`;
  }
}

interface Outcome {
  /** The plan the connect phase applied. */
  readonly planned: MigrationPlan;
  readonly temporaryOwner?: string;
}

async function walk(
  scenario: Scenario,
  world: World,
  settings: Record<string, unknown>,
  temporaryToken: string,
): Promise<Outcome> {
  const w = new Walk(scenario, world.organization);

  heading("1/4 prepare — invite who is missing; nothing irreversible");
  await w.config({
    organization: w.url,
    tenantId: world.tenant.id,
    phase: "prepare",
    ...settings,
  });
  await w.preview();
  let up = await w.up();
  let temporaryOwner: string | undefined;
  if (planOf(up).blockers.some((b) => OWNER_CANNOT_CONNECT.includes(b.code))) {
    const proposed = (up.outputs.temporaryOwner?.value as { proposedMsaEmail?: string } | undefined)
      ?.proposedMsaEmail;
    temporaryOwner = proposed ?? `${world.organization.toLowerCase()}-migration-demo@outlook.com`;
    note(
      `The owner cannot perform the connection, so a temporary Microsoft account will own the organization meanwhile${proposed ? " (the program proposed its address)" : ""}.`,
    );
    human(
      `creates the Microsoft account ${temporaryOwner} at https://signup.live.com and a personal access token for it, passed as AZDO_TEMPORARY_OWNER_TOKEN (emulator: POST /_emulator/tokens)`,
    );
    await w.emulator("tokens", { token: temporaryToken, principalName: temporaryOwner });
    await w.config({ temporaryOwner: { msaEmail: temporaryOwner } });
    await w.preview();
    up = await w.up();
    await w.redeem(temporaryOwner);
    human(`${temporaryOwner} signs in once to ${w.url} (emulator: POST /_emulator/signin)`);
    await w.emulator("signin", { principalName: temporaryOwner });
  }
  for (const invitee of (up.outputs.invitedGuests?.value as string[] | undefined) ?? []) {
    await w.redeem(invitee);
  }
  const prepared = planOf(up);

  heading("2/4 connect — hand ownership over if needed, connect, verify");
  await w.config({ phase: "connect" });
  const blockers = await w.blockers();
  const decisions = clearBlockers(blockers, prepared, settings);
  if (blockers.length > 0) {
    await w.config(decisions);
    await w.preview();
  }
  up = await w.up();
  const planned = planOf(up);
  human(`signs in to ${w.url} with an Entra account of the tenant: it works`);
  note(
    "Against Azure DevOps, regenerate the owner's token for their Entra identity now; the emulator keeps tokens working.",
  );

  heading("3/4 resolve — map the users the connection left disconnected, and identity changes");
  await w.config({ phase: "resolve" });
  await w.preview();
  await w.up();

  heading("4/4 cleanup — hand ownership back, remove the temporary owner");
  await w.config({ phase: "cleanup" });
  await w.preview();
  await w.up();
  if (temporaryOwner) human(`closes the Microsoft account ${temporaryOwner}`);
  return { planned, ...(temporaryOwner ? { temporaryOwner } : {}) };
}

/**
 * What an operator decides for each blocker the connect preview lists, as config changes: accept
 * by name the users who would become historic (the ones left out, and those whose new identity
 * does not exist, included), and accept TFVC. Anything else needs a person: the demo stops there.
 */
function clearBlockers(
  blockers: readonly FindingCode[],
  plan: MigrationPlan,
  settings: Record<string, unknown>,
): Record<string, unknown> {
  const usersOf = (code: FindingCode): string[] =>
    plan.blockers.find((b) => b.code === code)?.users?.map((u) => u.trim().toLowerCase()) ?? [];
  const accepted = new Set((settings.acceptHistoricUsers as string[] | undefined) ?? []);
  const decisions: Record<string, unknown> = {};
  for (const code of blockers) {
    if (code === "HISTORIC_USERS_NOT_ACCEPTED") {
      note(
        `The operator accepts that ${usersOf(code).join(", ")} will become historic (history kept, no sign-in).`,
      );
      for (const u of usersOf(code)) accepted.add(u);
    } else if (code === "EXCLUDED_USERS_STILL_IN_ORGANIZATION") {
      note(
        `The operator accepts the users left out, ${usersOf(code).join(", ")}, by name: they become historic.`,
      );
      for (const u of usersOf(code)) accepted.add(u);
      decisions.excludeUsers = [];
    } else if (code === "SUPPORT_TICKET_REQUIRED") {
      note(
        `The operator opens a support ticket for ${usersOf(code).join(", ")} and accepts them meanwhile.`,
      );
      const changes = {
        ...((settings.identityChanges as Record<string, string> | undefined) ?? {}),
      };
      for (const u of usersOf(code)) {
        accepted.add(u);
        for (const k of Object.keys(changes)) if (k.toLowerCase() === u) delete changes[k];
      }
      decisions.identityChanges = changes;
    } else if (code === "TFVC_IN_USE" || code === "TFVC_NOT_VERIFIED") {
      if (decisions.allowTfvc === undefined) {
        note(
          "The operator accepts that TFVC workspaces owned by Microsoft accounts become unusable.",
        );
      }
      decisions.allowTfvc = true;
    } else {
      throw new Error(
        `the demo does not know how an operator clears ${code}; see the message above`,
      );
    }
  }
  if (accepted.size > 0) decisions.acceptHistoricUsers = [...accepted];
  return decisions;
}

// ---------------------------------------------------------------------------------------------
// The result.

/** The address a planned user must end up bound to; undefined when it stays a Microsoft account. */
function plannedIdentity(user: PlannedUser): string | undefined {
  switch (user.category) {
    case "tenantMember":
    case "tenantGuest":
      return user.tenantIdentity;
    case "invite":
      return user.email;
    case "mapAfterConnect":
      return user.mapping?.to;
    default:
      return undefined;
  }
}

/** Prints every user and the identity they are bound to now; returns how many are not as planned. */
function showBindings(before: World, after: World, outcome: Outcome): number {
  heading("Result — who signs in as whom");
  const idOf = new Map(
    normalizeWorld(before).users.map((u) => [u.principalName.toLowerCase(), u.id]),
  );
  const now = normalizeWorld(after);
  const index = indexTenant(after);
  const rows: string[][] = [["user before", "planned", "now signs in as", "origin", ""]];
  let wrong = 0;
  for (const user of outcome.planned.users) {
    const id = idOf.get(user.principalName.toLowerCase());
    const current = now.users.find((u) => u.id === id);
    const expected = plannedIdentity(user);
    let ok: boolean;
    let shown: string;
    if (user.principalName.toLowerCase() === outcome.temporaryOwner) {
      ok = current === undefined;
      shown = current?.principalName ?? "(removed: temporary owner)";
    } else if (current === undefined) {
      ok = false;
      shown = "(not in the organization)";
    } else if (expected === undefined) {
      ok = current.origin === "msa";
      shown = current.principalName;
    } else {
      const bound = boundObjectId(current, index);
      const identity = now.tenant.users.find((t) => t.objectId === bound);
      const candidates = tenantUsersMatching(now.tenant.users, expected);
      ok = current.origin === "aad" && identity !== undefined && candidates.includes(identity);
      shown = current.principalName;
    }
    if (!ok) wrong++;
    const temporary = user.principalName.toLowerCase() === outcome.temporaryOwner;
    rows.push([
      user.principalName,
      temporary
        ? "temporary owner, removed at cleanup"
        : `${user.category}${expected ? ` → ${expected}` : ""}`,
      shown,
      current?.origin ?? "",
      ok ? "✓" : "✗ not as planned",
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  rows.forEach((r, i) => {
    say(`  ${r.map((c, j) => c.padEnd(widths[j])).join("  ")}`.trimEnd());
    if (i === 0) say(`  ${widths.map((n) => "─".repeat(n)).join("  ")}`);
  });
  const guests = now.tenant.users.filter((t) => externalAddressOf(t.userPrincipalName)).length;
  say();
  say(
    `  ${outcome.planned.users.length - wrong} of ${outcome.planned.users.length} users as planned; the tenant holds ${guests} guest account(s); the organization is on tenant ${after.tenantId ?? "none"}.`,
  );
  return wrong;
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  say(
    bold("devops-entra-connect sandbox: a whole migration, offline, under the real Pulumi engine"),
  );
  say(`  world:  ${path.relative(process.cwd(), args.world) || args.world}`);
  if (args.config) say(`  config: ${path.relative(process.cwd(), args.config) || args.config}`);

  heading("The Pulumi CLI kit");
  await ensureCli((line) => note(line.replace(/^ensure-pulumi-cli: /, "")));
  const kit = await cliKitDir();
  note(`using ${kit}`);

  const world = loadWorld(args.world);
  const settings = operatorSettings(args.config, world);
  const ownerToken = token();
  const temporaryToken = token();
  world.tokens = { ...world.tokens, [ownerToken]: world.owner };
  const dir = path.resolve(
    args.dir ?? mkdtempSync(path.join(os.tmpdir(), "devops-entra-connect-demo-")),
  );
  if (args.dir && existsSync(path.join(dir, "backend", ".pulumi"))) {
    throw new Error(`--dir ${dir} already holds a demo; remove it or pick another`);
  }
  const stackName = `${world.organization.toLowerCase()}-demo`;
  const scenario = await newScenario("demo", world, {
    root: dir,
    stackName,
    backendQuery: "metadata=skip",
    // Tokens through the environment, as pipelines should pass them: none reaches the state.
    env: { AZDO_PERSONAL_ACCESS_TOKEN: ownerToken, AZDO_TEMPORARY_OWNER_TOKEN: temporaryToken },
  });
  note(`emulator on ${scenario.emulator.url}; stack ${stackName} in ${dir}`);
  let wrong: number;
  try {
    const before = structuredClone(scenario.emulator.world);
    const outcome = await walk(scenario, world, settings, temporaryToken);
    wrong = showBindings(before, scenario.emulator.world, outcome);
  } finally {
    await scenario.cleanup();
  }

  heading("The stack is yours to inspect");
  say("  The emulator stopped with the demo; everything that reads the state works:");
  say();
  say(`  cd ${scenario.dirs.work}`);
  say(`  export PATH="${kit}:${path.dirname(process.execPath)}:$PATH"`);
  say(`  export PULUMI_HOME=${scenario.dirs.home} PULUMI_SKIP_UPDATE_CHECK=true`);
  say(`  export PULUMI_BACKEND_URL='file://${scenario.dirs.backend}?metadata=skip'`);
  say(`  export PULUMI_CONFIG_PASSPHRASE=${TEST_PASSPHRASE}`);
  say(`  pulumi stack output report          # the plan as Markdown`);
  say(`  pulumi stack output migrationPlan --json`);
  say(`  pulumi stack --show-urns            # the resources left: guests, the connection`);
  say();
  say(`Done in ${seconds(Date.now() - started)}.`);
  if (wrong > 0) {
    say(`${wrong} user(s) are not bound as planned: see the table above.`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
