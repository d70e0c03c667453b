import { billingFindings } from "./billing";
import { classifyUsers, contextOf } from "./classify";
import { indexTenant } from "./match";
import { BLOCKER_RULES, RESOLVE_LIMIT, WARNING_CODES, WARNING_RULES } from "./rules";
import { CATEGORIES, Category, Finding, MigrationPlan, PlanInput } from "./types";

export { RESOLVE_LIMIT };

/**
 * Classifies every organization user and lists what stands in the way of the connection: each
 * user's decision (plan/classify.ts), then every finding rule (plan/rules.ts). Pure: the same input
 * always gives the same plan, users sorted by principal name.
 */
export function planMigration(input: PlanInput): MigrationPlan {
  const ctx = contextOf(input, indexTenant(input.tenant.users));
  const users = classifyUsers(ctx);
  const facts = { ctx, users };
  const raised = BLOCKER_RULES.flatMap((rule) => rule(facts));
  const blockers: Finding[] = raised.filter((f) => !WARNING_CODES.includes(f.code));
  const warnings: Finding[] = [
    ...raised.filter((f) => WARNING_CODES.includes(f.code)),
    ...WARNING_RULES.flatMap((rule) => rule(facts)),
  ];
  const billing = input.billing
    ? billingFindings(input.billing, {
        organization: input.organization.name,
        targetTenantId: input.tenantId,
        connected: ctx.connected,
      })
    : { warnings: [], notices: [] };
  const summary = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const c of users) summary[c.planned.category]++;
  return {
    organization: input.organization.name,
    tenantId: input.tenantId,
    phase: input.phase,
    summary,
    users: users.map((c) => c.planned),
    blockers,
    warnings: [...warnings, ...billing.warnings],
    notices: billing.notices,
  };
}
