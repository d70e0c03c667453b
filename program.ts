import * as pulumi from "@pulumi/pulumi";
import type { TokenCredential } from "@azure/identity";
import { TenantGuests } from "./components/tenantGuests";
import { LoadedConfig, revealForThisProcess } from "./config/load";
import { CONFIG_NAMESPACE, MigrationConfig, SUPPORTED_PHASES } from "./config/schema";
import { normalizeIdentity } from "./config/identity";
import { DevOpsClient } from "./devops/client";
import { resolveDevOpsCredential } from "./devops/credentials";
import type { RetryPolicy } from "./devops/retry";
import { readTenantDirectory, readUserType } from "./directory/tenant";
import { indexTenant, matchTenant } from "./plan/match";
import { planMigration } from "./plan/plan";
import { renderReport } from "./plan/report";
import type { MigrationPlan, TenantIdentity } from "./plan/types";

/** Stack output that records which guests this stack invited (its ledger, read on the next run). */
export const LEDGER_OUTPUT = "invitedGuests";

/** What the program exports as stack outputs. */
export interface ProgramOutputs {
  readonly migrationPlan: MigrationPlan;
  readonly report: string;
  readonly invitedGuests: pulumi.Output<string[]>;
}

/** Seams for tests and benchmarks; production uses the defaults. */
export interface ProgramOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Entra credential used when no PAT is configured. */
  readonly entraCredential?: TokenCredential;
  readonly retry?: Partial<RetryPolicy>;
  /** Receives the Azure DevOps client, e.g. to count its requests. */
  readonly onClient?: (client: DevOpsClient) => void;
  /** Hears how long each step took (also logged), for the benchmark. */
  readonly onStep?: (step: "inventory" | "plan" | "declare resources", ms: number) => void;
}

/**
 * The migration program: inventory → plan → resources → outputs. Everything that can fail on bad
 * input or an unreachable API fails here, before the first resource is registered.
 */
export async function migrationProgram(
  loaded: LoadedConfig,
  options: ProgramOptions = {},
): Promise<ProgramOutputs> {
  const { config } = loaded;
  if (!SUPPORTED_PHASES.includes(config.phase)) {
    throw new pulumi.RunError(
      `${CONFIG_NAMESPACE}:phase "${config.phase}" is not yet supported by this version: only ${SUPPORTED_PHASES.join(", ")} is. ` +
        `Nothing was changed. Run \`pulumi config set phase prepare\`; the connect and cleanup phases come in a later release.`,
    );
  }

  const configToken = loaded.devopsToken
    ? await revealForThisProcess(loaded.devopsToken)
    : undefined;
  const credential = resolveDevOpsCredential({
    ...(configToken !== undefined ? { configToken } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.entraCredential ? { entra: options.entraCredential } : {}),
  });
  pulumi.log.info(`Azure DevOps credential: ${credential.source}`);
  const client = new DevOpsClient({
    organization: config.organization.name,
    credential,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.env ? { env: options.env } : {}),
    onProgress: (message) => pulumi.log.info(message),
  });
  options.onClient?.(client);
  let started = Date.now();
  const stepDone = (step: "inventory" | "plan" | "declare resources", detail: string): void => {
    const ms = Date.now() - started;
    started = Date.now();
    options.onStep?.(step, ms);
    pulumi.log.info(`${step}: ${detail} (${(ms / 1000).toFixed(1)} s)`);
  };

  const [users, organization, projects, directory, previouslyInvited] = await Promise.all([
    client.listUsers(),
    client.getOrganization(),
    client.listProjects(),
    readTenantDirectory(),
    readLedger(),
  ]).catch((err: unknown) => {
    throw new pulumi.RunError(`Inventory failed; nothing was changed. ${(err as Error).message}`);
  });
  stepDone(
    "inventory",
    `${users.length} organization users, ${projects.length} projects, ${directory.users.length} tenant users, ${client.requestCount} Azure DevOps requests`,
  );

  if (directory.signedInTenantId !== config.tenantId) {
    throw new pulumi.RunError(
      `The azuread provider is signed in to tenant ${directory.signedInTenantId}, but ${CONFIG_NAMESPACE}:tenantId is ${config.tenantId}. ` +
        `Nothing was changed. Set azuread:tenantId (or ARM_TENANT_ID) to the target tenant, or fix ${CONFIG_NAMESPACE}:tenantId.`,
    );
  }

  const tenantUsers = await exactOwnerKind(directory.users, users, organization.ownerId);
  const plan = planMigration({
    organization: config.organization,
    tenantId: config.tenantId,
    phase: config.phase,
    organizationTenantId: organization.tenantId,
    ownerId: organization.ownerId,
    users,
    projects,
    tenant: { users: tenantUsers, verifiedDomains: directory.verifiedDomains },
    identityChanges: config.identityChanges,
    acceptHistoricUsers: config.acceptHistoricUsers,
    excludeUsers: config.excludeUsers,
    invitationUserType: config.invitation.userType,
    previouslyInvited,
  });
  stepDone(
    "plan",
    Object.entries(plan.summary)
      .map(([category, n]) => `${category} ${n}`)
      .join(", "),
  );
  // In `prepare` blockers are reported, not fatal: the operator clears them before `connect`.
  for (const f of plan.blockers) pulumi.log.warn(`blocker ${f.code}: ${f.message}`);
  for (const f of plan.warnings) pulumi.log.warn(`${f.code}: ${f.message}`);

  const guests = new TenantGuests("guests", {
    invitees: plan.users
      .filter((u) => u.category === "invite")
      .map((u) => ({ email: u.email, ...(u.displayName ? { displayName: u.displayName } : {}) })),
    redirectUrl: config.invitation.redirectUrl,
    userType: config.invitation.userType,
    ...(config.invitation.sendEmail ? { message: invitationMessage(config) } : {}),
  });

  stepDone("declare resources", `${guests.invitations.size} invitations`);
  return { migrationPlan: plan, report: renderReport(plan), invitedGuests: guests.invitedEmails };
}

/** The configured message, or one that tells the invitee why and where to go. */
function invitationMessage(config: MigrationConfig): string {
  return (
    config.invitation.message ??
    `The Azure DevOps organization ${config.organization.name} is moving its sign-in to your organization's Microsoft Entra ID. ` +
      `Accept this invitation, then sign in to ${config.organization.url} with this account.`
  );
}

/**
 * Reads this stack's own previous `invitedGuests` output. After `pulumi up` the invitees are users
 * of the tenant; without this the next run would see them as pre-existing guests, drop their
 * invitations and show a diff. A stack reference to the stack itself reads its last saved outputs
 * (none on the first run).
 */
async function readLedger(): Promise<Set<string>> {
  const self = new pulumi.StackReference("ledger", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const details = await self.getOutputDetails(LEDGER_OUTPUT);
  const value = details.value ?? details.secretValue;
  return new Set(
    Array.isArray(value)
      ? value.filter((v): v is string => typeof v === "string").map(normalizeIdentity)
      : [],
  );
}

/**
 * `getUsers` gives no `userType`, so the owner's tenant identity is read once more to decide the
 * connection path exactly (a B2B member has a guest-style UPN too).
 */
async function exactOwnerKind(
  tenantUsers: TenantIdentity[],
  users: readonly { id: string; principalName: string; mailAddress?: string; origin: string }[],
  ownerId: string,
): Promise<TenantIdentity[]> {
  const owner = users.find((u) => u.id === ownerId);
  if (owner === undefined) return tenantUsers;
  const match = matchTenant(indexTenant(tenantUsers), owner);
  if (match === undefined) return tenantUsers;
  const kind = await readUserType(match.identity.objectId);
  if (kind === match.identity.kind) return tenantUsers;
  return tenantUsers.map((u) => (u === match.identity ? { ...u, kind } : u));
}
