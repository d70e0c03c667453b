/**
 * Entry point of the Pulumi program: config → inventory → plan → components → outputs.
 * `pulumi preview` shows the migration diff; `pulumi up` applies the current phase.
 */
import { runFromStackConfig } from "./program";

export = runFromStackConfig();
