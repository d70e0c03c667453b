/**
 * Where the two Azure DevOps tokens go under the real Pulumi engine at its most verbose: `prepare`
 * and `connect` (every provider and both tokens at work) with `--verbose 11 --logtostderr
 * --logflow --debug` and `PULUMI_DEBUG_GRPC`, once with the tokens as config secrets (set at the
 * CLI's prompt, as the runbook does) and once from the environment. While each command runs, the
 * command line of every process below the test is sampled.
 *
 * The places searched: the exported state (decrypted), every file of the backend, PULUMI_HOME and
 * the run's TMPDIR, the stack settings file, each command's stdout and stderr (the engine's and
 * the plugins' logs), the gRPC log, the engine events, the stack outputs, the emulator's request
 * log (a token may only reach its Authorization header, which the log does not keep) and the
 * command lines, and the engine's automatic logs (PULUMI_HOME/logs, decrypted).
 *
 * From the environment, the tokens are nowhere. As config secrets (Pulumi 3.276.0): encrypted in
 * the settings file and the state files; in plaintext only in the decrypted export (the engine's
 * record of the stack config, the dynamic providers' default provider) and in the gRPC debug log,
 * where the engine hands the config to the language host and that provider. Level 11 logs, on
 * stderr and in the automatic logs, show them as `[secret]`.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent, LocalWorkspace } from "@pulumi/pulumi/automation";
import { OWNER_TOKEN, TEMPORARY_TOKEN, fixture, stackConfig } from "../support/programRun";
import {
  type EngineFlags,
  type Scenario,
  type UpOutcome,
  SECRET_SIG,
  SECRET_SIG_KEY,
  TEST_PASSPHRASE,
  ensureCli,
  newScenario,
  structuredConfig,
} from "./harness";
import {
  type CommandLines,
  automaticLogs,
  filesBelow,
  holders,
  sampleCommandLines,
  setSecretAtPrompt,
} from "./tokenTrace";

const TEMPORARY = "fabrikam-migration@outlook.com";
const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const TOKENS = { devopsToken: OWNER_TOKEN, "temporaryOwner.devopsToken": TEMPORARY_TOKEN };
const CONFIG_WARNING = "A token is set in the stack config: the engine records the stack config";
const DEFAULT_PROVIDER = (stack: string): string =>
  `urn:pulumi:${stack}::devops-entra-connect::pulumi:providers:pulumi-nodejs::default`;

interface StateResource {
  urn: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** What a gRPC log entry is about: the provider it configures, the invoke it answers. */
function grpcSubject(e: { request?: unknown }): string {
  const req = (e.request ?? {}) as { urn?: string; tok?: string };
  if (req.urn)
    return ` ${req.urn.slice(req.urn.lastIndexOf("::") + 2)} (${req.urn.split("::")[2]})`;
  return req.tok ? ` ${req.tok}` : "";
}

/** Where the gRPC log holds the config tokens in plaintext (engine behaviour, Pulumi 3.276.0). */
const PROVIDER = "default (pulumi:providers:pulumi-nodejs)";
const GRPC_PREPARE = [
  "/pulumirpc.LanguageRuntime/Run",
  "/pulumirpc.ResourceMonitor/GetDeploymentInfo",
  `/pulumirpc.ResourceProvider/CheckConfig ${PROVIDER}`,
  `/pulumirpc.ResourceProvider/Configure ${PROVIDER}`,
];
const GRPC_CONNECT = [
  ...GRPC_PREPARE,
  "/pulumirpc.ResourceMonitor/Invoke pulumi:pulumi:readStackResourceOutputs",
  `/pulumirpc.ResourceProvider/DiffConfig ${PROVIDER}`,
].sort();

/** What one traced run leaves to search. */
interface Trace {
  places: Record<string, string>;
  commandLines: CommandLines;
  /** The gRPC log's entries, one JSON object a line. */
  grpc: { method: string; request?: unknown; response?: unknown }[];
}

type Channel = "config" | "environment";

for (const channel of ["config", "environment"] as Channel[]) {
  describe(`tokens from the ${channel}, under the real Pulumi engine at its most verbose`, function () {
    let scenario: Scenario;
    let tmp: string;
    const traces: Record<string, Trace> = {};
    const vars = (): Record<string, string> => (scenario.stack.workspace as LocalWorkspace).envVars;

    /** One `pulumi up` with every log the engine has, its command lines sampled. */
    async function tracedUp(name: string): Promise<void> {
      // Beside the scenario's directories, not in TMPDIR: each place is searched on its own.
      const grpcLog = path.join(scenario.dirs.root, `grpc-${name}.jsonl`);
      vars().PULUMI_DEBUG_GRPC = grpcLog;
      const events: EngineEvent[] = [];
      const flags: EngineFlags = {
        logVerbosity: 11,
        logToStdErr: true,
        logFlow: true,
        debug: true,
        onEvent: (e) => events.push(e),
      };
      const sampler = sampleCommandLines();
      let commandLines: CommandLines;
      let up: UpOutcome;
      try {
        up = await scenario.up(flags);
      } finally {
        commandLines = sampler.stop();
        delete vars().PULUMI_DEBUG_GRPC;
      }
      const grpcText = readFileSync(grpcLog, "utf8");
      traces[name] = {
        commandLines,
        grpc: grpcText
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as Trace["grpc"][number]),
        places: {
          [`${name}: stdout`]: up.stdout,
          [`${name}: stderr (engine and plugin logs)`]: up.stderr,
          [`${name}: gRPC log`]: grpcText,
          [`${name}: engine events`]: JSON.stringify(events),
          [`${name}: outputs`]: JSON.stringify(up.outputs),
          [`${name}: command lines`]: commandLines.lines.join("\n"),
        },
      };
      assert.ok(grpcText.length > 0, "the engine wrote its gRPC log");
      assert.match(
        up.stderr,
        /log level 11 will print sensitive information/,
        "the engine logged at level 11 to stderr",
      );
    }

    /** The places every run leaves behind, read now. */
    async function leftBehind(): Promise<Record<string, string>> {
      const files = (dir: string) =>
        filesBelow(dir)
          .map((f) => `${f.file}\n${f.text}`)
          .join("\n");
      return {
        "state export (decrypted)": JSON.stringify(await scenario.exportState()),
        "backend files": files(scenario.dirs.backend),
        "PULUMI_HOME files": files(scenario.dirs.home),
        "TMPDIR files": files(tmp),
        "stack settings file": readFileSync(
          path.join(scenario.dirs.work, `Pulumi.${scenario.stackName}.yaml`),
          "utf8",
        ),
        "emulator request log": JSON.stringify(scenario.emulator.requests),
        "every command's output": scenario.logs(),
        "the engine's automatic logs (decrypted)": automaticLogs(scenario, TEST_PASSPHRASE)
          .map((f) => `${f.file}\n${f.text}`)
          .join("\n"),
      };
    }

    before(async function () {
      this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
      await ensureCli();
      tmp = mkdtempSync(path.join(os.tmpdir(), `dec-e2e-tokens-${channel}-`));
      const w = fixture();
      w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
      scenario = await newScenario(`tokens-${channel}`, w, {
        backendQuery: "metadata=skip",
        env: {
          // Anything the CLI and the plugins write to a temporary file lands here, to be searched.
          TMPDIR: tmp,
          ...(channel === "environment"
            ? {
                AZDO_PERSONAL_ACCESS_TOKEN: OWNER_TOKEN,
                AZDO_TEMPORARY_OWNER_TOKEN: TEMPORARY_TOKEN,
              }
            : {}),
        },
      });
      const config = structuredConfig(
        stackConfig(w, {
          temporaryOwner: { msaEmail: TEMPORARY },
          excludeUsers: [],
          acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
          allowTfvc: true,
        }),
      );
      delete config["devops-entra-connect:devopsToken"];
      await scenario.setConfig(config);
      if (channel === "config") {
        const sampler = sampleCommandLines();
        for (const [key, token] of Object.entries(TOKENS))
          await setSecretAtPrompt(scenario, key, token);
        const lines = sampler.stop();
        traces["config set"] = {
          places: { "config set: command lines": lines.lines.join("\n") },
          commandLines: lines,
          grpc: [],
        };
        assert.ok(
          lines.lines.some((l) => /pulumi config set --secret/.test(l)),
          "the config commands were sampled",
        );
      }
    });
    after(async () => {
      if (!scenario) return;
      console.log(
        `      e2e timings: ${scenario
          .timings()
          .map((t) => `${t.operation} ${(t.ms / 1000).toFixed(1)} s`)
          .join("; ")}`,
      );
      await scenario.cleanup();
      if (process.env.E2E_KEEP_DIR) {
        writeFileSync(
          path.join(scenario.dirs.root, "traces.json"),
          JSON.stringify(traces, null, 2),
        );
      }
      rmSync(tmp, { recursive: true, force: true });
    });

    it("prepare and connect run with every log on, the command lines of every process sampled", async () => {
      await tracedUp("prepare");
      for (const address of [TEMPORARY, "dev.someone@gmail.com", "partner@othercompany.com"]) {
        scenario.emulator.redeem(address);
      }
      scenario.emulator.signIn(TEMPORARY);
      await scenario.setConfig({ phase: "connect" });
      await tracedUp("connect");
      assert.equal(scenario.emulator.world.tenantId, TENANT, "connected with both tokens at work");
      assert.equal(scenario.emulator.world.owner, TEMPORARY);
      // The sampling saw every kind of process of a run, so its silence means something.
      const lines = [...traces.prepare.commandLines.lines, ...traces.connect.commandLines.lines];
      for (const kind of [
        /(^|\/)pulumi up /,
        /(^|\/)pulumi-language-nodejs /,
        /@pulumi\/pulumi\/cmd\/run\/index\.js /, // the program
        /(^|\/)pulumi-resource-pulumi-nodejs /,
        /@pulumi\/pulumi\/cmd\/dynamic-provider\/index\.js /,
        /standins\/bin\/\.\.\/azuread\.ts /,
      ]) {
        assert.ok(
          lines.some((l) => kind.test(l)),
          `a process matching ${kind} was sampled:\n${lines.join("\n")}`,
        );
      }
    });

    if (channel === "environment") {
      it("the tokens are nowhere: not in any file, log, event, output, request or command line", async () => {
        const places = {
          ...(await leftBehind()),
          ...traces.prepare.places,
          ...traces.connect.places,
        };
        for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN])
          assert.deepEqual(holders(places, token), []);
        assert.ok(!scenario.logs().includes(CONFIG_WARNING), "no warning about config tokens");
      });
    } else {
      it("config tokens: encrypted in the settings and the state files; in plaintext only in the decrypted export and the gRPC log", async () => {
        const places = {
          ...(await leftBehind()),
          ...traces["config set"].places,
          ...traces.prepare.places,
          ...traces.connect.places,
        };
        for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN]) {
          assert.deepEqual(holders(places, token), [
            "state export (decrypted)",
            "prepare: gRPC log",
            "connect: gRPC log",
          ]);
        }
        // The state: only the engine's record of the stack config, as the inputs and outputs of the
        // dynamic providers' default provider, each a secret (encrypted in the file).
        const stateFile = JSON.parse(
          readFileSync(
            path.join(
              scenario.dirs.backend,
              ".pulumi",
              "stacks",
              "devops-entra-connect",
              `${scenario.stackName}.json`,
            ),
            "utf8",
          ),
        ) as { checkpoint: { latest: { resources: StateResource[] } } };
        const exported = (await scenario.exportState()).deployment as {
          resources: StateResource[];
        };
        for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN]) {
          assert.deepEqual(
            exported.resources.filter((r) => JSON.stringify(r).includes(token)).map((r) => r.urn),
            [DEFAULT_PROVIDER(scenario.stackName)],
          );
        }
        const provider = (resources: StateResource[]) =>
          resources.find((r) => r.urn === DEFAULT_PROVIDER(scenario.stackName));
        for (const key of ["devopsToken", "temporaryOwner"]) {
          for (const side of ["inputs", "outputs"] as const) {
            const inFile = provider(stateFile.checkpoint.latest.resources)?.[side]?.[
              `devops-entra-connect:${key}`
            ] as Record<string, unknown>;
            assert.equal(inFile?.[SECRET_SIG_KEY], SECRET_SIG, `${key} ${side}: a secret`);
            assert.match(
              String(inFile?.ciphertext),
              /^v1:/,
              `${key} ${side}: encrypted in the file`,
            );
            const decrypted = provider(exported.resources)?.[side]?.[
              `devops-entra-connect:${key}`
            ] as Record<string, unknown>;
            assert.equal(decrypted?.[SECRET_SIG_KEY], SECRET_SIG);
          }
        }
        // The settings file holds both, as the prompt stored them: `secure:` ciphertext.
        const settings = places["stack settings file"];
        assert.match(settings, /devops-entra-connect:devopsToken:\n\s+secure: v1:/);
        assert.match(settings, /temporaryOwner:\n(\s+\S.*\n)*?\s+devopsToken:\n\s+secure: v1:/);
        // The gRPC log: the engine hands the stack config (secrets decrypted) to the language host
        // and to the dynamic providers' default provider, and answers the program's read of its
        // own stack with that provider's recorded inputs (the ledger reads only its own resources).
        const methods = (phase: string, token: string): string[] =>
          [
            ...new Set(
              traces[phase].grpc
                .filter((e) => JSON.stringify(e).includes(token))
                .map((e) => `${e.method}${grpcSubject(e)}`),
            ),
          ].sort();
        for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN]) {
          assert.deepEqual(methods("prepare", token), GRPC_PREPARE);
          assert.deepEqual(methods("connect", token), GRPC_CONNECT);
        }
        assert.ok(
          scenario.logs().includes(CONFIG_WARNING),
          "the program warns about config tokens",
        );
        assert.ok(
          scenario.logs().includes("log level 11 will print sensitive information"),
          "the engine ran at level 11, and says what that level may print",
        );
      });
    }
  });
}
