/**
 * End-to-end harness: the real program, run by the real Pulumi engine the way users run it — the
 * CLI (`scripts/ensure-pulumi-cli.sh`: `pulumi`, the Node.js language host and the dynamic-provider
 * plugin) in a project folder, which starts `index.ts` and compiles the TypeScript itself — on a
 * throwaway local backend, against the Azure DevOps emulator, with provider stand-ins for azuread
 * and random (`standins/`) answering from the same emulator.
 *
 * The project folder is a copy of the repository's: `Pulumi.yaml` (config types and defaults
 * checked by the CLI), `index.ts`, `tsconfig.json` and `package.json` are copied, every other entry
 * is a symbolic link (sources and `node_modules`, from which the language host and the dynamic
 * providers resolve `@pulumi/pulumi`). The stack's `Pulumi.<stack>.yaml` is written there by
 * `pulumi config set`. The Automation API only drives the CLI commands (`LocalWorkspace` on that
 * folder, no inline program), which gives the engine's events to the tests.
 *
 * Nothing lands in the repository: each scenario gets a directory with the backend, a private
 * PULUMI_HOME and the project folder. Set `E2E_KEEP_DIR=<dir>` to keep `<dir>/<scenario>/`
 * (backend, world fixture, final world, logs) for a post-mortem.
 */
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CommandError,
  type ConfigMap,
  type Deployment,
  type EngineEvent,
  LocalWorkspace,
  type OpMap,
  type OutputMap,
  type PreviewOptions,
  PulumiCommand,
  type Stack,
} from "@pulumi/pulumi/automation";
import { CONFIG_NAMESPACE } from "../../config/schema";
import { BASE_URL_ENV } from "../../devops/hosts";
import { type Emulator, type RecordedRequest, startEmulator } from "../emulator/server";
import type { World } from "../emulator/world";
import { TENANT_URL_ENV } from "./standins/common";

const REPO = path.resolve(__dirname, "..", "..");
/** Where the stand-in launchers live; first on the CLI's PATH so the engine picks them up. */
export const STANDINS_BIN = path.join(__dirname, "standins", "bin");
/** Passphrase of the test backends' secrets provider (throwaway state, never a real secret). */
/** How a state marks a secret value: `{ <SECRET_SIG_KEY>: <SECRET_SIG>, ciphertext | plaintext }`. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export const TEST_PASSPHRASE = "e2e-test-passphrase";
/**
 * What the runbook sets with `--secret`: a key, or a path inside an object key (README:
 * `pulumi config set --secret --path temporaryOwner.devopsToken`). {@link Scenario.setConfig}
 * stores them encrypted.
 */
export const SECRETS: readonly string[] = ["devopsToken", "temporaryOwner.devopsToken"];
/** A first CLI build compiles Pulumi from source: allow for a slow machine. */
const CLI_BUILD_TIMEOUT_MS = 40 * 60 * 1000;

/** How the CLI was obtained, for the test report. */
export interface CliStatus {
  /** For `PulumiCommand.get({ root })`: the directory above `bin/pulumi`. */
  readonly root: string;
  readonly version: string;
  /** false when this run had to build it. */
  readonly cached: boolean;
  readonly ms: number;
}

let cli: Promise<CliStatus> | undefined;
let cliDone: CliStatus | undefined;

/**
 * Runs `scripts/ensure-pulumi-cli.sh` once per process (a cached kit answers in well under a
 * second; a first build takes about ten minutes) and returns the root for `PulumiCommand.get`.
 * `onProgress` hears each line the script prints while it works (the demo shows them).
 */
export function ensureCli(onProgress?: (line: string) => void): Promise<string> {
  cli ??= new Promise<CliStatus>((resolve, reject) => {
    const started = Date.now();
    const child = execFile(
      "bash",
      [path.join(REPO, "scripts", "ensure-pulumi-cli.sh")],
      { cwd: REPO, timeout: CLI_BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`scripts/ensure-pulumi-cli.sh failed: ${err.message}\n${stderr}`));
          return;
        }
        const bin = stdout.trim().split("\n").pop() ?? "";
        const version = /pulumi (v\d\S*)/.exec(stderr)?.[1] ?? "unknown";
        cliDone = {
          root: path.dirname(bin),
          version,
          // The script says "using cached" or "found on PATH" unless it built the CLI just now.
          cached: !/building pulumi v/.test(stderr),
          ms: Date.now() - started,
        };
        resolve(cliDone);
      },
    );
    if (onProgress) {
      let pending = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        const lines = (pending + chunk.toString("utf8")).split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) if (l.trim() !== "") onProgress(l);
      });
    }
  });
  return cli.then((s) => s.root);
}

/** The directory holding the CLI kit (`pulumi` and its plugins), once {@link ensureCli} is done. */
export async function cliKitDir(): Promise<string> {
  return path.join(await ensureCli(), "bin");
}

/** How {@link ensureCli} found the CLI; undefined before it finished. */
export function cliStatus(): CliStatus | undefined {
  return cliDone;
}

let command: Promise<PulumiCommand> | undefined;
function pulumiCommand(): Promise<PulumiCommand> {
  // Never PulumiCommand.install: it downloads, which these machines cannot do.
  command ??= ensureCli().then((root) => PulumiCommand.get({ root }));
  return command;
}

/** One resource step as the engine announced it (`resourcePreEvent`). */
export interface StepRecord {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Top-level properties that differ, when the engine says (updates, replacements). */
  readonly diffs?: readonly string[];
  /**
   * What the step came to (`resOutputsEvent`): mostly `op` again, but a refresh announces every
   * resource as `refresh` and reports here whether it was `same`, `update`d or `delete`d. Absent
   * when the step did not finish (a failed operation).
   */
  readonly result?: string;
}

/** What every engine operation returns. */
export interface OperationOutcome {
  /** Per-resource operations, in the order the engine announced them. */
  readonly steps: StepRecord[];
  readonly stdout: string;
  readonly stderr: string;
  /** Diagnostics (program logs, warnings, errors; not debug), in order. */
  readonly diagnostics: { severity: string; message: string; urn?: string }[];
  readonly ms: number;
}

export interface PreviewOutcome extends OperationOutcome {
  /** The engine's count per operation, e.g. `{ create: 6 }` or `{ same: 6 }`. */
  readonly changeSummary: OpMap;
}

export interface UpdateOutcome extends OperationOutcome {
  /** The update's count per operation. */
  readonly summary: OpMap;
}

export interface UpOutcome extends UpdateOutcome {
  readonly outputs: OutputMap;
}

/**
 * A failed engine operation. The message starts with the error diagnostics the engine printed
 * (a program's RunError, a provider's failure), so tests can assert on the program's own words.
 */
export class EngineError extends Error {
  constructor(
    readonly operation: string,
    message: string,
    readonly outcome: Omit<OperationOutcome, "ms">,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

/**
 * Engine flags for one `preview` or `up`, passed to the CLI as the Automation API passes them:
 * `--parallel`, `--verbose`, `--logtostderr`, `--logflow`, `--debug`. Everything else about the
 * run (env, backend) is the scenario's.
 */
export interface EngineFlags {
  /** `--parallel <n>`: how many resource operations the engine runs at once (1: none at once). */
  readonly parallel?: number;
  /** `--verbose <n>`: the engine's log level (11 is the most verbose). */
  readonly logVerbosity?: number;
  /** `--logtostderr`: the engine's log goes to its stderr (hence the outcome's) instead of files. */
  readonly logToStdErr?: boolean;
  /** `--logflow`: the plugins log at the same level. */
  readonly logFlow?: boolean;
  /** `--debug`: debug diagnostics too. */
  readonly debug?: boolean;
  /** Hears every engine event as the engine sent it, after the harness recorded it. */
  readonly onEvent?: (event: EngineEvent) => void;
}

/** Flags of one preview: the engine's, and whether it must find nothing to change. */
export type PreviewFlags = EngineFlags & Pick<PreviewOptions, "expectNoChanges" | "diff">;

export interface ScenarioOptions {
  /** Extra env vars for every CLI run (hence for the program and the plugins too). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Query string for the `file://` backend URL, e.g. `metadata=skip` (gocloud's fileblob then
   * writes no `.attrs` sidecar files, as the README tells operators to set). Default none: the
   * plain `file://` URL, which can race with the engine's checkpoint writes (tests/e2e/README.md).
   */
  readonly backendQuery?: string;
  /**
   * Another project folder (its own `Pulumi.yaml` and `index.ts`) to run instead of the
   * repository's, for a baseline (the benchmark's trivial resources) under exactly the same
   * engine, plugins and backend. Default: the repository.
   */
  readonly project?: string;
  /**
   * Where the scenario's directory goes; it is kept after `cleanup()` (the demo leaves its stack
   * for the user). Default: `E2E_KEEP_DIR/<name>` when that is set, else a new temporary directory,
   * removed by `cleanup()`.
   */
  readonly root?: string;
  /** The stack's name; default `dec-e2e-<name>`. */
  readonly stackName?: string;
  /**
   * Hears each request the emulator answered, after the service acted and before the answer is
   * sent: a test can act at an exact point of an operation (inject the next fault, kill the CLI).
   */
  readonly onRequest?: (request: RecordedRequest) => void;
}

export interface Scenario {
  readonly name: string;
  readonly stackName: string;
  /** The live emulator; `emulator.world` is the organization and tenant right now. */
  readonly emulator: Emulator;
  readonly stack: Stack;
  /** The scenario's directories (all under `root`). */
  readonly dirs: { root: string; backend: string; home: string; work: string };
  /**
   * Adds or replaces stack config keys. Bare keys are in the program's namespace; keys with a
   * colon are taken as they are (`azuread:tenantId`). Strings, numbers and booleans are stored as
   * `pulumi config set` stores them; objects and arrays as YAML structures. The keys and paths in
   * {@link SECRETS} and `secrets` are encrypted as `--secret` / `--secret --path` would.
   */
  setConfig(
    values: Readonly<Record<string, unknown>>,
    options?: { secrets?: readonly string[] },
  ): Promise<void>;
  /** Removes config keys (same key rules as setConfig). */
  removeConfig(keys: readonly string[]): Promise<void>;
  /**
   * `pulumi preview`; `flags` add engine flags (parallelism, verbose logs) to this one run,
   * `expectNoChanges` fails it when any step would change something (`--expect-no-changes`),
   * `diff` prints each property difference (`--diff`).
   */
  preview(flags?: PreviewFlags): Promise<PreviewOutcome>;
  /** `pulumi up --yes --skip-preview`; `flags` as for {@link preview}. */
  up(flags?: EngineFlags): Promise<UpOutcome>;
  refresh(): Promise<UpdateOutcome>;
  destroy(): Promise<UpdateOutcome>;
  /** The stack's checkpoint, as `pulumi stack export` prints it. */
  exportState(): Promise<Deployment>;
  /**
   * Replaces the stack's checkpoint with `state`, as `pulumi stack import` does (the resources'
   * URNs must name this stack and project, or the CLI refuses them).
   */
  importState(state: Deployment): Promise<void>;
  /** Everything the CLI printed so far, one section per operation. */
  logs(): string;
  /** Wall time of each operation so far. */
  timings(): { operation: string; ms: number }[];
  /** Stops the emulator; deletes the directory, or keeps it under E2E_KEEP_DIR. */
  cleanup(): Promise<void>;
}

/** The run's hooks with the engine flags added; `onEvent` hears what the harness heard. */
function withFlags<H extends { onEvent: (e: EngineEvent) => void }, F extends EngineFlags>(
  hooks: H,
  { onEvent, ...flags }: F,
): H & Omit<F, "onEvent"> {
  return {
    ...hooks,
    ...flags,
    onEvent: (e: EngineEvent) => {
      hooks.onEvent(e);
      onEvent?.(e);
    },
  };
}

const fullKey = (key: string): string => (key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`);

/** One entry of `pulumi config set-all --json` (the shape `pulumi config --json` prints). */
interface JsonConfigEntry {
  value: string;
  objectValue?: unknown;
  secret: boolean;
}

/** `a.b`, `a["x@y"]`, `a[0]`: a config path as `pulumi config set --path` parses it. */
function pathOf(key: string, segments: readonly (string | number)[]): string {
  return segments.reduce<string>(
    (p, s) =>
      typeof s === "number"
        ? `${p}[${s}]`
        : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)
          ? `${p}.${s}`
          : `${p}[${JSON.stringify(s)}]`,
    key,
  );
}

/** The scalar leaves of an object or array, with their paths below it. */
function leavesOf(
  key: string,
  value: unknown,
  at: (string | number)[] = [],
): { segments: (string | number)[]; value: string }[] {
  if (Array.isArray(value) || (value !== null && typeof value === "object")) {
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    if (entries.length === 0) {
      throw new Error(
        `setConfig: ${pathOf(key, at)} is an empty object or list, which cannot be set by path`,
      );
    }
    return entries.flatMap(([k, v]) => leavesOf(key, v, [...at, k]));
  }
  return [{ segments: at, value: String(value) }];
}

/**
 * The `pulumi config set` commands an operator would type for `values` (bare keys; objects and
 * lists leaf by leaf with `--path`), for the demo to show what it sets. Empty lists and objects
 * come out whole, as `pulumi config set` cannot set them by path.
 */
export function configCommands(values: Readonly<Record<string, unknown>>): string[] {
  const quote = (v: string): string =>
    /^[\w@.:/+-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`;
  return Object.entries(values).flatMap(([key, value]) => {
    if (value === null || typeof value !== "object" || Object.keys(value).length === 0) {
      const text = typeof value === "object" ? JSON.stringify(value) : String(value);
      return [`pulumi config set ${key} ${quote(text)}`];
    }
    return leavesOf(key, value).map(
      (leaf) =>
        `pulumi config set --path ${quote(pathOf(key, leaf.segments))} ${quote(leaf.value)}`,
    );
  });
}

/**
 * How to store `values`: whole values in one `config set-all --json`, except objects that hold a
 * secret, which go leaf by leaf with `--path` as the runbook sets them. (The CLI's `--json` form
 * cannot store a secret object: v3.274.1 fails with "invalid character 'v' looking for beginning
 * of value", parsing the ciphertext as the object.) `secrets` name keys (`devopsToken`) or paths
 * in them (`temporaryOwner.devopsToken`), with dots between plain names.
 */
export function configPlan(
  values: Readonly<Record<string, unknown>>,
  secrets: readonly string[],
): { json: Record<string, JsonConfigEntry>; byPath: { key: string; leaves: ConfigMap }[] } {
  const secretPaths = new Set(
    secrets.map((s) => {
      const [first, ...rest] = s.split(".");
      return [fullKey(first), ...rest].join(".");
    }),
  );
  const json: Record<string, JsonConfigEntry> = {};
  const byPath: { key: string; leaves: ConfigMap }[] = [];
  for (const [k, v] of Object.entries(values)) {
    const key = fullKey(k);
    const whole = secretPaths.has(key);
    if (v === undefined) throw new Error(`setConfig: ${key} is undefined; use removeConfig`);
    if (v === null || typeof v !== "object") {
      json[key] = { value: String(v), secret: whole };
      continue;
    }
    const inner = [...secretPaths].some((p) => p.startsWith(`${key}.`));
    // An empty object or list holds no secret: stored whole, it stays a structure.
    if ((!whole && !inner) || Object.keys(v).length === 0) {
      json[key] = { value: JSON.stringify(v), objectValue: v, secret: false };
      continue;
    }
    const leaves: ConfigMap = {};
    for (const leaf of leavesOf(key, v)) {
      const dotted = [key, ...leaf.segments].join(".");
      leaves[pathOf(key, leaf.segments)] = {
        value: leaf.value,
        secret: whole || secretPaths.has(dotted),
      };
    }
    byPath.push({ key, leaves });
  }
  return { json, byPath };
}

/**
 * Makes `dest` a copy of the project folder `src`: the files the CLI and the SDK read as the project
 * (`Pulumi.yaml`, `index.ts`, `tsconfig.json`, `package.json`) are copied, every other entry is
 * linked, so the sources and `node_modules` are the repository's own (one copy of
 * `@pulumi/pulumi`). Stack settings files (`Pulumi.<stack>.yaml`) and `.git` are left out: each
 * scenario writes its own.
 */
export function projectFolder(src: string, dest: string): void {
  const copied = new Set(["Pulumi.yaml", "index.ts", "tsconfig.json", "package.json"]);
  for (const entry of readdirSync(src)) {
    if (entry === ".git" || /^Pulumi\..+\.ya?ml$/.test(entry)) continue;
    const from = path.join(src, entry);
    const to = path.join(dest, entry);
    if (copied.has(entry)) copyFileSync(from, to);
    else symlinkSync(from, to);
  }
  // A project kept inside the repository (the benchmark's baseline) uses the repository's packages.
  const modules = path.join(dest, "node_modules");
  if (!existsSync(modules)) symlinkSync(path.join(REPO, "node_modules"), modules, "dir");
}

/** Writes a world for a post-mortem, without its tokens (they are credentials, even in a test). */
function writeWorld(file: string, world: World): void {
  const { tokens, ...rest } = world;
  const kept = tokens
    ? { $comment: `${Object.keys(tokens).length} token(s) left out`, ...rest }
    : rest;
  writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`);
}

/** A fresh scenario directory: `root`, `<E2E_KEEP_DIR>/<name>` (emptied first) or a new temp dir. */
function scenarioRoot(name: string, given?: string): { root: string; keep: boolean } {
  const keepDir = process.env.E2E_KEEP_DIR?.trim();
  if (given !== undefined || keepDir) {
    const root = path.resolve(given ?? path.join(keepDir as string, name));
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    return { root, keep: true };
  }
  return { root: mkdtempSync(path.join(os.tmpdir(), `dec-e2e-${name}-`)), keep: false };
}

/**
 * Starts the emulator on `world` and creates the stack `dec-e2e-<name>` on a fresh local backend.
 * `name`: lower-case letters, digits and hyphens (it names the stack and the directory).
 */
export async function newScenario(
  name: string,
  world: World,
  options: ScenarioOptions = {},
): Promise<Scenario> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new Error(`scenario name "${name}" must be lower-case letters, digits and hyphens`);
  }
  const { root, keep } = scenarioRoot(name, options.root);
  const dirs = {
    root,
    backend: path.join(root, "backend"),
    home: path.join(root, "pulumi-home"),
    work: path.join(root, "project"),
  };
  for (const d of [dirs.backend, dirs.home, dirs.work]) mkdirSync(d, { recursive: true });
  writeWorld(path.join(root, "world.json"), world);
  projectFolder(options.project ?? REPO, dirs.work);
  const kit = await cliKitDir();

  const emulator = await startEmulator({
    world: structuredClone(world),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
  let log = "";
  const timings: { operation: string; ms: number }[] = [];
  const stackName = options.stackName ?? `dec-e2e-${name}`;
  try {
    const envVars: Record<string, string> = {
      // The stand-ins first (ambient plugins), then the CLI kit (the language host and the
      // dynamic-provider plugin sit next to `pulumi`), then the `node` running this process
      // (Node 22), which the language host and the plugins start.
      PATH: [STANDINS_BIN, kit, path.dirname(process.execPath), process.env.PATH ?? ""].join(
        path.delimiter,
      ),
      PULUMI_BACKEND_URL: `file://${dirs.backend}${options.backendQuery ? `?${options.backendQuery}` : ""}`,
      PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      // Ambient (PATH) plugins are how the stand-ins are found: never ignore them here.
      PULUMI_IGNORE_AMBIENT_PLUGINS: "",
      [BASE_URL_ENV]: emulator.url,
      [TENANT_URL_ENV]: emulator.url,
      // The CLI inherits this process's env: a developer's own Azure DevOps tokens must not
      // reach the dynamic providers. Empty counts as unset for the program.
      AZDO_PERSONAL_ACCESS_TOKEN: "",
      AZDO_TEMPORARY_OWNER_TOKEN: "",
      ...options.env,
    };
    // A local program: the CLI runs the project folder's Pulumi.yaml and index.ts.
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: dirs.work },
      { pulumiHome: dirs.home, pulumiCommand: await pulumiCommand(), envVars },
    );

    /** Runs one CLI operation, recording its output, steps, diagnostics and time. */
    async function run<T extends { stdout: string; stderr: string }>(
      operation: string,
      fn: (hooks: {
        onOutput: (s: string) => void;
        onError: (s: string) => void;
        onEvent: (e: EngineEvent) => void;
      }) => Promise<T>,
    ): Promise<T & OperationOutcome> {
      const steps: { -readonly [K in keyof StepRecord]: StepRecord[K] }[] = [];
      const diagnostics: OperationOutcome["diagnostics"] = [];
      let stdout = "";
      let stderr = "";
      log += `\n===== ${operation} (${new Date().toISOString()}) =====\n`;
      const started = Date.now();
      const hooks = {
        onOutput: (s: string) => {
          stdout += s;
          log += s;
        },
        onError: (s: string) => {
          stderr += s;
          log += s;
        },
        onEvent: (e: EngineEvent) => {
          const m = e.resourcePreEvent?.metadata;
          if (m) {
            steps.push({
              op: m.op,
              urn: m.urn,
              type: m.type,
              name: m.urn.slice(m.urn.lastIndexOf("::") + 2),
              ...(m.diffs && m.diffs.length > 0 ? { diffs: m.diffs } : {}),
            });
          }
          const done = e.resOutputsEvent?.metadata;
          if (done) {
            const step = steps.findLast((s) => s.urn === done.urn && s.result === undefined);
            if (step) step.result = done.op;
          }
          const d = e.diagnosticEvent;
          // Debug lines (the SDK's RPC trace) only drown the rest; the logs keep the display.
          if (d && (d.severity as string) !== "debug") {
            diagnostics.push({
              severity: d.severity,
              message: d.message.trim(),
              ...(d.urn ? { urn: d.urn } : {}),
            });
          }
        },
      };
      try {
        const result = await fn(hooks);
        const ms = Date.now() - started;
        timings.push({ operation, ms });
        log += `----- ${operation}: ok in ${ms} ms\n`;
        return { ...result, steps, diagnostics, stdout, stderr, ms };
      } catch (err) {
        const ms = Date.now() - started;
        timings.push({ operation: `${operation} (failed)`, ms });
        log += `----- ${operation}: failed in ${ms} ms\n`;
        if (!(err instanceof CommandError)) throw err;
        // The engine reports a program's error twice (when it happens, and again at the end).
        const errors = [
          ...new Set(diagnostics.filter((d) => d.severity === "error").map((d) => d.message)),
        ];
        // Error diagnostics carry the program's and the providers' messages; the CLI's stderr
        // adds its own reason (e.g. a plugin that could not be loaded).
        const message = [
          `pulumi ${operation} failed:`,
          ...errors,
          stderr.trim() !== "" ? `stderr: ${stderr.trim()}` : "",
        ]
          .filter((s) => s !== "")
          .join("\n");
        throw new EngineError(operation, message, { steps, diagnostics, stdout, stderr });
      }
    }

    /** Runs a config command; its errors name the CLI's reason, never the values (tokens). */
    const configCommand = async (what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        const reasons = err.message.split("\n").filter((l) => /^\s*error:/.test(l));
        throw new Error(`pulumi config (${what}) failed: ${reasons.join(" ") || "see logs()"}`);
      }
    };

    const scenario: Scenario = {
      name,
      stackName,
      emulator,
      stack,
      dirs,
      async setConfig(values, opts = {}) {
        const plan = configPlan(values, [...SECRETS, ...(opts.secrets ?? [])]);
        const keys = Object.keys(values).map(fullKey).join(", ");
        if (Object.keys(plan.json).length > 0) {
          await configCommand(keys, () => stack.setAllConfigJson(JSON.stringify(plan.json)));
        }
        for (const { key, leaves } of plan.byPath) {
          // Path writes merge into what is there: start from nothing, as a full value would.
          await configCommand(key, async () => {
            await stack.removeConfig(key);
            await stack.setAllConfig(leaves, true);
          });
        }
      },
      async removeConfig(keys) {
        await configCommand(keys.join(", "), () => stack.removeAllConfig(keys.map(fullKey)));
      },
      async preview(flags = {}) {
        const r = await run("preview", (hooks) => stack.preview(withFlags(hooks, flags)));
        return { ...r, changeSummary: r.changeSummary };
      },
      async up(flags = {}) {
        const r = await run("up", (hooks) => stack.up(withFlags(hooks, flags)));
        return { ...r, summary: r.summary.resourceChanges ?? {} };
      },
      async refresh() {
        const r = await run("refresh", (hooks) => stack.refresh(hooks));
        return { ...r, summary: r.summary.resourceChanges ?? {} };
      },
      async destroy() {
        const r = await run("destroy", (hooks) => stack.destroy(hooks));
        return { ...r, summary: r.summary.resourceChanges ?? {} };
      },
      exportState: () => stack.exportStack(),
      async importState(state) {
        // `pulumi stack import --file`: no engine events, only the CLI's own words on failure.
        await run("import", async () => {
          await stack.importStack(state);
          return { stdout: "", stderr: "" };
        });
      },
      logs: () => log,
      timings: () => [...timings],
      async cleanup() {
        await emulator.close();
        if (keep) {
          writeWorld(path.join(root, "world-final.json"), emulator.world);
          const summary = timings.map((t) => `${t.operation}: ${t.ms} ms`).join("\n");
          writeFileSync(path.join(root, "logs.txt"), `${log}\n===== timings =====\n${summary}\n`);
        } else {
          rmSync(root, { recursive: true, force: true });
        }
      },
    };
    return scenario;
  } catch (err) {
    await emulator.close();
    if (!keep) rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Turns flat config (`programRun.stackConfig`: full keys, objects as JSON text) into what
 * {@link Scenario.setConfig} takes, so that objects and lists are stored as YAML structures, as
 * `pulumi config set --path` stores them, rather than as strings.
 */
export function structuredConfig(flat: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(flat).map(([k, v]) => [k, /^\s*[[{]/.test(v) ? (JSON.parse(v) as unknown) : v]),
  );
}
