import { CATEGORIES, Category, Finding, MigrationPlan } from "./types";

/** Users listed per category in the Markdown report; the full list is in the `migrationPlan` output. */
export const REPORT_ROWS_PER_CATEGORY = 200;

const TITLES: Record<Category, string> = {
  tenantMember: "Tenant members (nothing to do)",
  tenantGuest: "Tenant guests (nothing to do)",
  invite: "Invited as B2B guests by this stack",
  mapAfterConnect: "Mapped to their Entra identity after the connection",
  supportTicket: "Identity changes (Microsoft Support)",
  acceptedHistoric: "Accepted as historic",
  excluded: "Excluded",
  historic: "Would become historic — blocking",
};

/** Categories whose users are listed one by one; the others are only counted. */
const LISTED: readonly Category[] = [
  "mapAfterConnect",
  "historic",
  "invite",
  "supportTicket",
  "acceptedHistoric",
  "excluded",
];

/**
 * The plan as Markdown, for a pull-request comment. Bounded in size (GitHub caps comments at
 * 65,536 characters): large categories are cut with a pointer to the full output.
 */
export function renderReport(plan: MigrationPlan): string {
  const lines: string[] = [];
  lines.push(`## Azure DevOps → Entra ID migration plan: \`${plan.organization}\``);
  lines.push("");
  lines.push(
    `Target tenant \`${plan.tenantId}\` · phase \`${plan.phase}\` · ${plan.users.length} organization users`,
  );
  lines.push("");
  lines.push(
    plan.blockers.length === 0
      ? "**No blockers.**"
      : `**${plan.blockers.length} blocker(s)** must be cleared before the \`connect\` phase.`,
  );
  lines.push("");
  lines.push("| category | users |");
  lines.push("| --- | ---: |");
  for (const c of CATEGORIES) lines.push(`| ${TITLES[c]} | ${plan.summary[c]} |`);
  lines.push("");
  section(lines, "Blockers", plan.blockers);
  section(lines, "Warnings", plan.warnings);
  section(lines, "Notices", plan.notices);
  for (const c of LISTED) {
    const users = plan.users.filter((u) => u.category === c);
    if (users.length === 0) continue;
    lines.push(`### ${TITLES[c]} (${users.length})`);
    lines.push("");
    lines.push("| user | action | reason |");
    lines.push("| --- | --- | --- |");
    for (const u of users.slice(0, REPORT_ROWS_PER_CATEGORY)) {
      lines.push(`| ${cell(u.principalName)} | ${cell(u.action)} | ${cell(u.reason)} |`);
    }
    if (users.length > REPORT_ROWS_PER_CATEGORY) {
      lines.push("");
      lines.push(
        `… and ${users.length - REPORT_ROWS_PER_CATEGORY} more: \`pulumi stack output migrationPlan --json\` lists them all.`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

function section(lines: string[], title: string, findings: readonly Finding[]): void {
  if (findings.length === 0) return;
  lines.push(`### ${title}`);
  lines.push("");
  for (const f of findings) lines.push(`- \`${f.code}\`: ${f.message}`);
  lines.push("");
}

/** Table cells must not break the table. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}
