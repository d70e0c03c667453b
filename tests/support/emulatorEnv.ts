import { BASE_URL_ENV } from "../../devops/hosts";
import { forgetTokens } from "../../providers/credentials";
import { Emulator, startEmulator } from "../emulator/server";
import type { World } from "../emulator/world";

/**
 * Starts an emulator for a suite (once, or for each test) and points this process's Azure DevOps
 * hosts at it, as the dynamic providers read `DEVOPS_API_BASE_URL` from the environment; restores
 * the environment and forgets the providers' tokens afterwards.
 */
export function useEmulator(
  makeWorld: () => World,
  scope: "suite" | "each" = "suite",
): { readonly emulator: Emulator } {
  const handle = { emulator: undefined as unknown as Emulator };
  let saved: string | undefined;
  const start = async (): Promise<void> => {
    handle.emulator = await startEmulator({ world: makeWorld() });
    saved = process.env[BASE_URL_ENV];
    process.env[BASE_URL_ENV] = handle.emulator.url;
  };
  const stop = async (): Promise<void> => {
    if (saved === undefined) delete process.env[BASE_URL_ENV];
    else process.env[BASE_URL_ENV] = saved;
    forgetTokens();
    await handle.emulator.close();
  };
  if (scope === "suite") {
    before(start);
    after(stop);
  } else {
    beforeEach(start);
    afterEach(stop);
  }
  return handle;
}
