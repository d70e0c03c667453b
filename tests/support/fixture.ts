import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { World } from "../emulator/world";

export const FIXTURE = path.join(__dirname, "..", "fixtures", "world.json");
/** A fresh copy of the reference world. */
export const fixture = (): World => JSON.parse(readFileSync(FIXTURE, "utf8")) as World;
