/**
 * Counts the behaviour rules of the test doubles by evidence class, from the tags in their code:
 *
 *   // rule E8 [doc] User Entitlements - Delete answers 200 (memberEntitlementManagement-7.1.json)
 *
 * `npm run fidelity` prints the counts; `-- --list` every tag; `-- --markdown` the rule table of
 * docs/test-doubles.md. Exits 1 when a tag is malformed or an id is tagged twice.
 * tests/fidelity.test.ts fails when docs/test-doubles.md no longer matches the code.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const CLASSES = ["doc", "obs", "guess", "deviates"] as const;
export type RuleClass = (typeof CLASSES)[number];

/** The doubles, in two groups: the Azure DevOps emulator, and the others. */
export const GROUPS = {
  emulator: { title: "Azure DevOps emulator and world", folders: ["tests/emulator"] },
  standins: {
    title: "Entra and random stand-ins, unit mocks",
    folders: ["tests/e2e/standins", "tests/support"],
  },
} as const;
export type Group = keyof typeof GROUPS;

export interface RuleTag {
  id: string;
  ruleClass: RuleClass;
  /** What the tag says after the class: the rule, then its sources in parentheses. */
  text: string;
  group: Group;
  /** Repository-relative file and 1-based line. */
  file: string;
  line: number;
}

const TAG = /\/\/ rule (\S+) \[([a-z]+)\] (.+)$/;
const ID = /^[A-Z]{1,3}\d+$/;

/** Areas by id prefix, for the rule table. */
export const AREAS: Record<string, string> = {
  T: "routing and errors",
  AU: "authentication",
  V: "api-version",
  P: "paging",
  E: "user entitlements",
  G: "graph users",
  MP: "identity mapping",
  O: "organization",
  PR: "projects",
  PF: "profile",
  D: "discovery",
  F: "faults",
  C: "control (human and Entra actions)",
  W: "world model",
  B: "billing and Resource Manager",
  Z: "azuread stand-in and mocks",
  RP: "random stand-in",
};

function sourceFiles(root: string, folder: string): string[] {
  const dir = join(root, folder);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return []; // a folder another branch has not created yet
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(root, relative(root, path));
    return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

export interface ScanResult {
  tags: RuleTag[];
  /** Malformed tags and ids tagged more than once. */
  errors: string[];
}

/** Reads every tag of the doubles under `root` (the repository). */
export function scanTags(root: string): ScanResult {
  const tags: RuleTag[] = [];
  const errors: string[] = [];
  for (const [group, { folders }] of Object.entries(GROUPS) as [Group, (typeof GROUPS)[Group]][]) {
    for (const folder of folders) {
      for (const path of sourceFiles(root, folder).sort()) {
        const file = relative(root, path);
        readFileSync(path, "utf8")
          .split("\n")
          .forEach((content, index) => {
            if (!/^\s*\/\/ rule /.test(content)) return;
            const where = `${file}:${index + 1}`;
            const match = TAG.exec(content);
            if (match === null || !ID.test(match[1])) {
              errors.push(
                `${where}: not a rule tag "// rule <ID> [<class>] <source>": ${content.trim()}`,
              );
              return;
            }
            if (!(CLASSES as readonly string[]).includes(match[2])) {
              errors.push(`${where}: unknown class [${match[2]}] (classes: ${CLASSES.join(", ")})`);
              return;
            }
            tags.push({
              id: match[1],
              ruleClass: match[2] as RuleClass,
              text: match[3].trim(),
              group,
              file,
              line: index + 1,
            });
          });
      }
    }
  }
  const seen = new Map<string, RuleTag>();
  for (const tag of tags) {
    const first = seen.get(tag.id);
    if (first !== undefined) {
      errors.push(
        `${tag.file}:${tag.line}: rule ${tag.id} is already tagged at ${first.file}:${first.line}`,
      );
    } else {
      seen.set(tag.id, tag);
    }
  }
  return { tags, errors };
}

export type Counts = Record<Group | "all", Record<RuleClass | "total", number>>;

export function countByClass(tags: readonly RuleTag[]): Counts {
  const empty = (): Record<RuleClass | "total", number> => ({
    doc: 0,
    obs: 0,
    guess: 0,
    deviates: 0,
    total: 0,
  });
  const counts: Counts = { emulator: empty(), standins: empty(), all: empty() };
  for (const tag of tags) {
    for (const key of [tag.group, "all"] as const) {
      counts[key][tag.ruleClass] += 1;
      counts[key].total += 1;
    }
  }
  return counts;
}

/** The area of an id, from its prefix. */
export function areaOf(id: string): string {
  return AREAS[id.replace(/\d+$/, "")] ?? "other";
}

/** Splits a tag's text into the rule and its trailing parenthesized sources ("" when none). */
export function splitSources(text: string): { rule: string; sources: string } {
  if (!text.endsWith(")")) return { rule: text, sources: "" };
  let depth = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    if (text[i] === ")") depth++;
    if (text[i] === "(" && --depth === 0) {
      return { rule: text.slice(0, i).trim(), sources: text.slice(i + 1, -1).trim() };
    }
  }
  return { rule: text, sources: "" };
}

/** Sorts ids by prefix, then number: T2 before T10. */
export function compareIds(a: string, b: string): number {
  const [pa, na] = [a.replace(/\d+$/, ""), Number(a.replace(/^\D+/, ""))];
  const [pb, nb] = [b.replace(/\d+$/, ""), Number(b.replace(/^\D+/, ""))];
  return pa === pb ? na - nb : pa < pb ? -1 : 1;
}

/** The rows of the rule table of docs/test-doubles.md for one group. */
export function markdownRows(tags: readonly RuleTag[], group: Group): string[] {
  const cell = (s: string): string => s.replace(/\|/g, "\\|");
  return tags
    .filter((t) => t.group === group)
    .sort((a, b) => compareIds(a.id, b.id))
    .map((t) => {
      const { rule, sources } = splitSources(t.text);
      return `| ${t.id} | ${areaOf(t.id)} | ${cell(rule)} | ${t.ruleClass} | ${cell(sources === "" ? "none" : sources)} (\`${t.file}\`) |`;
    });
}

function countsTable(counts: Counts): string[] {
  const rows = [
    `| class | ${GROUPS.emulator.title} | ${GROUPS.standins.title} | all |`,
    "| --- | --- | --- | --- |",
  ];
  for (const c of [...CLASSES, "total"] as const) {
    rows.push(`| ${c} | ${counts.emulator[c]} | ${counts.standins[c]} | ${counts.all[c]} |`);
  }
  return rows;
}

function main(argv: string[]): number {
  const root = join(__dirname, "..");
  const { tags, errors } = scanTags(root);
  if (argv.includes("--markdown")) {
    for (const group of Object.keys(GROUPS) as Group[]) {
      console.log(`\n${GROUPS[group].title}\n`);
      console.log(markdownRows(tags, group).join("\n"));
    }
    console.log(`\n${countsTable(countByClass(tags)).join("\n")}`);
  } else if (argv.includes("--list")) {
    for (const t of [...tags].sort((a, b) => compareIds(a.id, b.id))) {
      console.log(`${t.id.padEnd(5)} [${t.ruleClass}] ${t.file}:${t.line}`);
    }
  } else {
    const counts = countByClass(tags);
    console.log("Rule tags of the test doubles, by class of evidence:\n");
    console.log(countsTable(counts).join("\n"));
  }
  for (const error of errors) console.error(`fidelity: ${error}`);
  return errors.length === 0 ? 0 : 1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
