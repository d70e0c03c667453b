import { organizationUrl } from "../devops/hosts";
import type { Phase } from "../config/schema";
import type { FindingCode, MigrationPlan } from "./types";

/** What the manual steps and messages need to know about the run. */
export interface RunFacts {
  readonly phase: Phase;
  readonly organization: string;
  readonly tenantId: string;
  /** The tenant's default verified domain, to name it in messages (e.g. fabrikam.com). */
  readonly tenantDomain?: string;
  /** Date of this run (YYYY-MM-DD), named in the messages. */
  readonly date: string;
  readonly plan: MigrationPlan;
  /** The temporary owner's configured address, or `proposed` when the program proposes one. */
  readonly temporaryOwner?: { readonly msaEmail?: string; readonly proposed?: boolean };
  /** True once the organization reports the target tenant. */
  readonly connected: boolean;
}

/** Billing warnings a human acts on; their message holds the fixes and Microsoft's links. */
const BILLING_STEPS: Partial<Record<FindingCode, string>> = {
  BILLING_IN_OTHER_TENANT: "Move billing into the tenant's directory",
  BILLING_CHECK_FAILED: "Check billing by hand",
};

/** One step per billing warning that stands (shown in the phases that read billing). */
function billingSteps(plan: MigrationPlan): string[] {
  return plan.warnings.flatMap((w) => {
    const title = BILLING_STEPS[w.code];
    return title === undefined ? [] : [`${title} (\`${w.code}\`): ${w.message}`];
  });
}

/**
 * The steps no API can do, for this phase, with links (docs/procedure.md#manual-steps). Markdown.
 */
export function manualSteps(f: RunFacts): string {
  const steps: string[] = [];
  const tmp = f.temporaryOwner;
  const invites = f.plan.summary.invite;
  if (f.phase === "prepare") {
    if (tmp && !tmp.msaEmail) {
      steps.push(
        "Create the temporary Microsoft account proposed in the `temporaryOwner.proposedMsaEmail` output at https://signup.live.com, then `pulumi config set --path temporaryOwner.msaEmail <address>` and run `pulumi up` again.",
      );
    }
    if (tmp?.msaEmail) {
      steps.push(
        `Sign in as ${tmp.msaEmail}, redeem the tenant invitation from its email (or the redeem link in Entra), then sign in once to ${organizationUrl(f.organization)}.`,
      );
      steps.push(
        "If the temporary owner was invited as Guest, have a User Administrator change its user type to Member in the Entra admin center (https://entra.microsoft.com → Users).",
      );
    }
    if (invites > 0)
      steps.push(
        `Ask the ${invites} invited user(s) to accept their invitation (they may do so after the connection too).`,
      );
    steps.push('Send the "before" message of `userCommunication` to every user.');
    steps.push(...billingSteps(f.plan));
    steps.push(
      "Clear every blocker of the report, then `pulumi config set phase connect` and `pulumi preview`.",
    );
  } else if (f.phase === "connect") {
    steps.push(...billingSteps(f.plan));
    if (!f.connected) {
      steps.push(
        "Run `pulumi up`: ownership moves to the temporary owner (when used) and the organization is connected.",
      );
    } else {
      steps.push(
        `Check ${organizationUrl(f.organization)}/_settings/organizationAad shows the tenant ${f.tenantDomain ?? f.tenantId}.`,
      );
      steps.push("Sign in with an Entra account of the tenant and open a project: it must work.");
      steps.push('Send the "after" message of `userCommunication` to every user.');
      steps.push(
        "Regenerate `devopsToken` for the original owner's Entra identity (Microsoft-account tokens stop working after the connection), then `pulumi config set phase resolve` and `pulumi preview` to review the identity mappings.",
      );
    }
  } else if (f.phase === "resolve") {
    const mapped = f.plan.users.filter((u) => u.category === "mapAfterConnect").length;
    steps.push(
      `Run \`pulumi up\` to map ${mapped} user(s) to their Entra identity, then ask them to sign in with it (their work items and pull requests show the new identity).`,
    );
    steps.push(
      `Check ${organizationUrl(f.organization)}/_settings/users lists no disconnected user you have not accepted.`,
    );
    steps.push("Then `pulumi config set phase cleanup`.");
  } else {
    steps.push(
      `Check the owner at ${organizationUrl(f.organization)}/_settings/organizationOverview is the original owner again.`,
    );
    if (tmp?.msaEmail) {
      steps.push(
        `Close the temporary Microsoft account ${tmp.msaEmail} at https://account.live.com/closeaccount.aspx.`,
      );
    }
  }
  return steps.map((s, i) => `${i + 1}. ${s}`).join("\n");
}

/**
 * The messages to send users before and after the change (docs/procedure.md#inform-users),
 * naming the organization, the tenant and the date.
 */
export function userCommunication(f: RunFacts): { before: string; after: string } {
  const tenant = f.tenantDomain ?? f.tenantId;
  const url = organizationUrl(f.organization);
  const before = [
    `### Azure DevOps \`${f.organization}\` moves its sign-in to Microsoft Entra ID (${tenant})`,
    "",
    `Planned after ${f.date}. There is no downtime, but please:`,
    "",
    "1. Check in or push all pending changes before the switch.",
    `2. If you received an invitation to ${tenant}, accept it (it lets you keep your access and history).`,
    "3. Note the personal access tokens and SSH keys you use: they must be regenerated afterwards.",
    "4. If your Visual Studio subscription uses an email other than your new sign-in, plan to move it.",
    "",
    "Questions: reply to this message.",
  ].join("\n");
  const after = [
    `### Azure DevOps \`${f.organization}\` now signs in with Microsoft Entra ID (${tenant})`,
    "",
    `As of ${f.date}, sign in to ${url} with your ${tenant} work account (or the account you accepted the invitation with).`,
    "",
    "1. Sign out of Azure DevOps and Visual Studio, and clear your browser cache for dev.azure.com.",
    "2. Delete Git Credential Manager's cached tenant (`%LocalAppData%\\GitCredentialManager\\tenant.cache` on Windows, `~/.gcm/tenant.cache` elsewhere).",
    `3. Create new personal access tokens (${url}/_usersSettings/tokens) and upload your SSH keys again; the old ones no longer work.`,
    "4. If your personal Microsoft account has the same address as your work account, rename it (https://account.live.com) to avoid the account picker.",
    "5. Move a Visual Studio subscription whose email differs from your new sign-in.",
  ].join("\n");
  return { before, after };
}
