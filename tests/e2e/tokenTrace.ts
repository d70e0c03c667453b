/**
 * Where a credential went during an end-to-end run: the command lines of every process the run
 * started (sampled from `/proc` while it runs), and the text of every place a run leaves behind.
 * Linux only (`/proc`), like the machines the suite runs on.
 */
import { execFile } from "node:child_process";
import { createDecipheriv, pbkdf2Sync } from "node:crypto";
import { lstatSync, readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { LocalWorkspace } from "@pulumi/pulumi/automation";
import { CONFIG_NAMESPACE } from "../../config/schema";
import { type Scenario, cliKitDir } from "./harness";

/** The parent of every process, from `/proc/<pid>/stat` ("pid (comm) state ppid …"). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      out.set(Number(entry), ppid);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

/** `root` and every process below it. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** The command lines seen, as argv joined by spaces, once each. */
export interface CommandLines {
  readonly lines: readonly string[];
  /** How many times `/proc` was read. */
  readonly samples: number;
}

/**
 * Samples the command line of every process below this one (the CLI the Automation API starts,
 * its language host, the program, the provider plugins) every `intervalMs` until `stop()`.
 */
export function sampleCommandLines(intervalMs = 20): { stop(): CommandLines } {
  const seen = new Set<string>();
  let samples = 0;
  const sample = (): void => {
    samples++;
    for (const pid of descendants(process.pid)) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
        if (argv.length > 0) seen.add(argv.join(" "));
      } catch {
        // Gone already.
      }
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { lines: [...seen].sort(), samples };
    },
  };
}

/** Every regular file below `dir` (symbolic links not followed), with its text. */
export function filesBelow(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const p = path.join(d, entry);
      const stat = lstatSync(p);
      if (stat.isDirectory()) walk(p);
      else if (stat.isFile())
        out.push({ file: path.relative(dir, p), text: readFileSync(p, "latin1") });
    }
  };
  walk(dir);
  return out;
}

/**
 * Sets a secret config key as the runbook does (`pulumi config set --secret [--path] <key>`,
 * the value typed at the prompt), so that the value is on no command line: the CLI reads it from
 * its standard input. `key` is bare (in the program's namespace); a dotted key is set by path.
 */
export async function setSecretAtPrompt(
  scenario: Scenario,
  key: string,
  value: string,
): Promise<void> {
  await runCli(
    scenario,
    [
      "config",
      "set",
      "--secret",
      ...(key.includes(".") ? ["--path"] : []),
      `${CONFIG_NAMESPACE}:${key}`,
      "--stack",
      scenario.stackName,
    ],
    `${value}\n`,
  );
}

/** Runs the scenario's CLI as the Automation API would (its env, PULUMI_HOME, project folder). */
async function runCli(
  scenario: Scenario,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const ws = scenario.stack.workspace as LocalWorkspace;
  const pulumi = path.join(await cliKitDir(), "pulumi");
  return new Promise<string>((resolve, reject) => {
    const child = execFile(
      pulumi,
      [...args, "--non-interactive"],
      {
        cwd: ws.workDir,
        env: {
          ...process.env,
          ...ws.envVars,
          ...(ws.pulumiHome ? { PULUMI_HOME: ws.pulumiHome } : {}),
        },
        maxBuffer: 256 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        err ? reject(new Error(`pulumi ${args[0]} ${args[1]} failed: ${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(stdin);
  });
}

/**
 * The engine's automatic logs: since 2026 the CLI writes one per command to `PULUMI_HOME/logs`,
 * encrypted with the stack's secrets provider (Pulumi's PLOG format: "PLOG", version 1, the session
 * key as the secrets provider encrypts a value, then AES-256-GCM chunks of gzip-compressed text,
 * their nonces a counter). `pulumi logs decrypt` reads them, but its line reader stops at the first
 * line over 64 KiB ("bufio.Scanner: token too long"), which level 11 writes; so they are decrypted
 * here, with the passphrase of the test backends, as an operator with the passphrase could. A
 * command outside a stack writes its log gzip-compressed only.
 */
export function automaticLogs(
  scenario: Scenario,
  passphrase: string,
): { file: string; text: string }[] {
  const settings = readFileSync(
    path.join(scenario.dirs.work, `Pulumi.${scenario.stackName}.yaml`),
    "utf8",
  );
  const state = /^encryptionsalt: (v1:[^\s]+)$/m.exec(settings)?.[1];
  if (state === undefined) throw new Error("the stack settings hold no encryptionsalt");
  const [, salt] = state.split(":");
  const key = pbkdf2Sync(passphrase, Buffer.from(salt, "base64"), 1_000_000, 32, "sha256");
  const dir = path.join(scenario.dirs.home, "logs");
  return readdirSync(dir)
    .sort()
    .map((file) => ({ file, text: decryptLog(readFileSync(path.join(dir, file)), key) }));
}

/** AES-256-GCM open; Go's sealed form is the ciphertext followed by its 16-byte tag. */
function open(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

function decryptLog(data: Buffer, passphraseKey: Buffer): string {
  // A command outside a stack (`pulumi stack output`, …) has no secrets provider: plain gzip.
  if (data[0] === 0x1f && data[1] === 0x8b)
    return gunzipSync(data, { finishFlush: 2 }).toString("utf8");
  if (data.subarray(0, 4).toString("latin1") !== "PLOG" || data[4] !== 1) {
    throw new Error("neither an encrypted log (PLOG version 1) nor gzip");
  }
  const keyLength = data.readUInt16BE(5);
  const [version, nonce, sealed] = data
    .subarray(7, 7 + keyLength)
    .toString("utf8")
    .split(":");
  if (version !== "v1") throw new Error(`unknown session key version ${version}`);
  const session = open(passphraseKey, Buffer.from(nonce, "base64"), Buffer.from(sealed, "base64"));
  const parts: string[] = [];
  for (let at = 7 + keyLength; at + 4 <= data.length;) {
    const length = data.readUInt32BE(at);
    const chunk = data.subarray(at + 4, at + 4 + length);
    if (chunk.length < length) break; // a chunk the writer had not finished
    parts.push(
      gunzipSync(open(session, chunk.subarray(0, 12), chunk.subarray(12))).toString("utf8"),
    );
    at += 4 + length;
  }
  return parts.join("");
}

/** The places, by name, whose text holds `needle`. */
export function holders(places: Readonly<Record<string, string>>, needle: string): string[] {
  return Object.entries(places)
    .filter(([, text]) => text.includes(needle))
    .map(([name]) => name);
}
