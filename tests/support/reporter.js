// Mocha's spec reporter, plus one closing line in the plain "N passed, N failed" form that CI
// systems read regardless of the test runner.
"use strict";
const Mocha = require("mocha");

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      setImmediate(() =>
        console.log(
          `tests: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ""}`,
        ),
      );
    });
  }
}

module.exports = SpecWithSummary;
