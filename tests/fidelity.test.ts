/**
 * docs/test-doubles.md must stay current: the rule ids, their classes and the counts it shows are
 * the ones tagged in the doubles' code (scripts/fidelity.ts reads the tags).
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLASSES, type Counts, countByClass, scanTags } from "../scripts/fidelity";
import { BEHAVIOUR_KEYS } from "./emulator/behaviour";

const ROOT = join(__dirname, "..");
const DOC = readFileSync(join(ROOT, "docs", "test-doubles.md"), "utf8");

/** The cells of a markdown table row, trimmed; escaped pipes stay inside their cell. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

const tableRows = DOC.split("\n")
  .filter((line) => line.trim().startsWith("|"))
  .map(cells);

describe("docs/test-doubles.md and the rule tags of the doubles", () => {
  const { tags, errors } = scanTags(ROOT);

  it("finds only well-formed tags, each id once", () => {
    assert.deepEqual(errors, []);
    assert.ok(tags.length > 0);
  });

  it("lists every tagged rule with its class, and no other", () => {
    const documented = tableRows
      .filter((row) => /^[A-Z]{1,3}\d+$/.test(row[0]))
      .map((row) => `${row[0]} [${row[3]}]`)
      .sort();
    const tagged = tags.map((t) => `${t.id} [${t.ruleClass}]`).sort();
    assert.deepEqual(documented, tagged);
  });

  it("shows the counts per class that the code has", () => {
    const shown: Record<string, string[]> = Object.fromEntries(
      tableRows
        .filter((row) => [...CLASSES, "total"].includes(row[0]) && row.length === 4)
        .map((row) => [row[0], row.slice(1)]),
    );
    const counts: Counts = countByClass(tags);
    const expected = Object.fromEntries(
      [...CLASSES, "total"].map((c) => [
        c,
        (["emulator", "standins", "all"] as const).map((g) =>
          String(counts[g][c as keyof Counts["all"]]),
        ),
      ]),
    );
    assert.deepEqual(shown, expected);
  });

  it("documents every switch of the emulator", () => {
    const documented = tableRows.map((row) => row[0].replace(/`/g, ""));
    for (const key of BEHAVIOUR_KEYS.filter((k) => !/DelayMs$/.test(k))) {
      assert.ok(documented.includes(key), `switch ${key} is in the switches table`);
    }
  });
});
