/**
 * Standalone Azure DevOps emulator, for end-to-end runs and manual poking:
 *
 *   npm run -s emulator -- --port 0 --fixture tests/fixtures/world.json [--page-size 2]
 *
 * The first stdout line is exactly `listening on http://127.0.0.1:<port>` so a parent process can
 * read the URL; one line per request goes to stderr. Exit code 2 = bad arguments or fixture.
 * (`npm run` without `-s` prints its own banner to stdout before that line.)
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "./server";
import { loadWorld, type World } from "./world";

const USAGE = "usage: emulator [--port <n|0>] [--fixture <world.json>] [--page-size <n>]";

function usageError(message: string): never {
  process.stderr.write(`emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function integer(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) {
    return fallback;
  }
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > 65535) {
    usageError(`--${name} must be an integer between ${min} and 65535 (got "${value}")`);
  }
  return Number(value);
}

async function main(): Promise<void> {
  let values: { port?: string; fixture?: string; "page-size"?: string };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        fixture: { type: "string" },
        "page-size": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  const port = integer(values.port, "port", 0, 0);
  const pageSize = integer(values["page-size"], "page-size", 100, 1);
  const fixture = resolve(values.fixture ?? resolve(__dirname, "../fixtures/world.json"));

  let world: World;
  try {
    world = loadWorld(fixture);
  } catch (err) {
    usageError((err as Error).message);
  }

  const emulator = await startEmulator({
    world,
    port,
    pageSize,
    onRequest: (r) => {
      const query = Object.entries(r.query)
        .map(([k, v]) => `${k}=${v}`)
        .join("&");
      process.stderr.write(
        `${new Date().toISOString()} ${r.method} ${r.path}${query === "" ? "" : `?${query}`} -> ${r.status} (${r.auth})\n`,
      );
    },
  });
  process.stdout.write(`listening on ${emulator.url}\n`);

  const stop = (signal: NodeJS.Signals): void => {
    process.stderr.write(`emulator: ${signal}, closing\n`);
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`emulator: close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  // e.g. EADDRINUSE for a fixed port.
  process.stderr.write(`emulator: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
