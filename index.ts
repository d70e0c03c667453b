/**
 * Entry point of the Pulumi program: config → inventory → plan → components → outputs.
 * `pulumi preview` shows the migration diff; `pulumi up` applies the current phase.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { ConfigError } from "./config/schema";
import { migrationProgram } from "./program";

function start(): ReturnType<typeof migrationProgram> {
  try {
    return migrationProgram(loadConfig());
  } catch (err) {
    // A config error is the operator's to fix: print it without a stack trace.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

export = start();
