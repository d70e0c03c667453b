/**
 * README.md must stay current where it lists what the code defines: the categories, every finding
 * code with its kind, the layout's directories, and the dependencies of package.json.
 */
import { strict as assert } from "node:assert";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { billingFindings } from "../plan/billing";
import { connectionBlockers } from "../plan/readiness";
import { INVENTORY_BLOCKERS } from "../plan/readiness";
import { WARNING_CODES } from "../plan/rules";
import {
  CATEGORIES,
  FINDING_CODES,
  type FindingCode,
  MAPPING_BLOCKERS,
  type MigrationPlan,
} from "../plan/types";

const ROOT = join(__dirname, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The cells of a markdown table row, trimmed; escaped pipes stay inside their cell. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** The README's text from a heading to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README.md has the heading "${heading}"`);
  const level = heading.indexOf(" ");
  const rest = README.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`^#{1,${level}} `, "m"));
  return next < 0 ? rest : rest.slice(0, next);
}

/** The body rows of the first table in `text`, as cells (header and separator dropped). */
function tableRows(text: string): string[][] {
  const lines = text.split("\n").filter((l) => l.trim().startsWith("|"));
  return lines.slice(2).map(cells);
}

const unquote = (cell: string): string => cell.replace(/`/g, "").trim();

type Kind = "blocker" | "mapping blocker" | "listing blocker" | "warning" | "notice";

/**
 * Each code's kind as `FINDING_CODES` in plan/types.ts groups them (its `// blockers`,
 * `// warnings` and `// notices` sections), a blocker being a listing blocker when
 * `INVENTORY_BLOCKERS` lists it (it refuses every phase), else a mapping blocker when
 * `MAPPING_BLOCKERS` does.
 */
function blockerKind(code: FindingCode): Kind {
  if (INVENTORY_BLOCKERS.includes(code)) return "listing blocker";
  return MAPPING_BLOCKERS.includes(code) ? "mapping blocker" : "blocker";
}

function kindsInCode(): Map<FindingCode, Kind> {
  const source = readFileSync(join(ROOT, "plan", "types.ts"), "utf8");
  const start = source.indexOf("export const FINDING_CODES = [");
  const end = source.indexOf("] as const;", start);
  assert.ok(start >= 0 && end > start, "plan/types.ts declares FINDING_CODES");
  const kinds = new Map<FindingCode, Kind>();
  let group: "blocker" | "warning" | "notice" | undefined;
  for (const line of source.slice(start, end).split("\n")) {
    const comment = /^\s*\/\/\s*(blockers|warnings|notices)\b/.exec(line);
    if (comment) group = comment[1].replace(/s$/, "") as typeof group;
    const code = /^\s*"([A-Z0-9_]+)",/.exec(line)?.[1] as FindingCode | undefined;
    if (code === undefined) continue;
    assert.ok(group !== undefined, `${code} sits under a blockers/warnings/notices comment`);
    kinds.set(code, group === "blocker" ? blockerKind(code) : group);
  }
  return kinds;
}

describe("README.md and the code", () => {
  it("lists the categories of plan/types.ts, in their order", () => {
    const documented = tableRows(section("### Categories")).map((row) => unquote(row[0]));
    assert.deepEqual(documented, [...CATEGORIES]);
  });

  describe("finding codes", () => {
    const kinds = kindsInCode();

    it("reads a kind for every code of FINDING_CODES", () => {
      assert.deepEqual([...kinds.keys()], [...FINDING_CODES]);
    });

    it("groups the codes as the plan reports them", () => {
      // Codes a blocker rule raises but the plan reports as warnings.
      for (const code of WARNING_CODES) assert.equal(kinds.get(code), "warning", code);
      for (const code of MAPPING_BLOCKERS) {
        assert.match(kinds.get(code) ?? "", /^(mapping|listing) blocker$/, code);
      }
      for (const code of INVENTORY_BLOCKERS) assert.equal(kinds.get(code), "listing blocker", code);
      // The billing findings land where their kind says.
      const context = { organization: "fabrikam", targetTenantId: "t", connected: false };
      const readings = [
        { kind: "notSetUp" },
        { kind: "unknown", what: "billing", reason: "refused" },
        { kind: "setUp", subscriptionId: "s", subscriptionTenantId: "other" },
      ] as const;
      for (const reading of readings) {
        const { warnings, notices } = billingFindings(reading, context);
        for (const f of warnings) assert.equal(kinds.get(f.code), "warning", f.code);
        for (const f of notices) assert.equal(kinds.get(f.code), "notice", f.code);
      }
      // The connection's readiness only ever adds blockers.
      const plan: MigrationPlan = {
        organization: "fabrikam",
        tenantId: "t",
        phase: "connect",
        summary: Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as MigrationPlan["summary"],
        users: [],
        blockers: [],
        warnings: [],
        notices: [],
      };
      const added = connectionBlockers({
        plan,
        allowTfvc: false,
        ownerToken: { error: "refused" },
        temporaryOwner: { msaEmail: "tmp@outlook.com", token: undefined },
      });
      assert.ok(added.length > 0);
      for (const f of added) assert.match(kinds.get(f.code) ?? "", /blocker/, f.code);
    });

    it("lists every code once, with its kind, and no other", () => {
      const rows = tableRows(section("### Finding codes (stable)"));
      const documented = rows.map((row) => `${unquote(row[0])}: ${row[1]}`).sort();
      const expected = [...kinds].map(([code, kind]) => `${code}: ${kind}`).sort();
      assert.deepEqual(documented, expected);
      for (const row of rows) assert.ok(row[2] !== "", `${row[0]} says when it is raised`);
    });
  });

  it("shows every top-level directory and every folder of tests/ in the layout", () => {
    const layout = section("## Layout");
    const directories = (dir: string): string[] =>
      readdirSync(join(ROOT, dir)).filter(
        (name) =>
          !name.startsWith(".") &&
          name !== "node_modules" &&
          statSync(join(ROOT, dir, name)).isDirectory(),
      );
    for (const name of directories(".")) {
      assert.match(layout, new RegExp(`^${name}/ `, "m"), `${name}/ is in the layout`);
    }
    for (const name of directories("tests")) {
      assert.match(layout, new RegExp(`^ {2}${name}/ `, "m"), `tests/${name}/ is in the layout`);
    }
  });

  it("justifies every dependency of package.json, runtime and dev as they are", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const expected = [
      ...Object.keys(pkg.dependencies).map((name) => `${name}: runtime`),
      ...Object.keys(pkg.devDependencies).map((name) => `${name}: dev`),
    ].sort();
    const documented = tableRows(section("## Dependencies"))
      .flatMap((row) => {
        assert.ok(row[2] !== "", `${row[0]} says why`);
        return row[0].split(",").map((name) => `${unquote(name)}: ${row[1]}`);
      })
      .sort();
    assert.deepEqual(documented, expected);
  });
});
