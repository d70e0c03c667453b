import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { TokenCredential } from "@azure/identity";
import { armTokenFrom } from "./azure/armToken";
import { readBilling } from "./azure/billing";
import { DirectoryConnection } from "./components/directoryConnection";
import { TemporaryOwner } from "./components/temporaryOwner";
import { TenantGuests } from "./components/tenantGuests";
import { normalizeIdentity } from "./config/identity";
import { LoadedConfig, loadConfig, revealForThisProcess } from "./config/load";
import { CONFIG_NAMESPACE, ConfigError, MigrationConfig } from "./config/schema";
import { DevOpsClient } from "./devops/client";
import { DevOpsCredential, resolveDevOpsCredential } from "./devops/credentials";
import { BASE_URL_ENV, baseUrlOverride } from "./devops/hosts";
import type { RetryPolicy } from "./devops/retry";
import { readStanding, readTenantDirectory } from "./directory/tenant";
import { manualSteps, userCommunication } from "./plan/communication";
import { identityAt, indexTenant, matchTenant } from "./plan/match";
import { planMigration } from "./plan/plan";
import { TenantStanding, TokenIdentity, connectionBlockers } from "./plan/readiness";
import { renderReport } from "./plan/report";
import type { BillingReading, MappingRecord, MigrationPlan, TenantIdentity } from "./plan/types";
import { TEMPORARY_OWNER_PAT_ENV } from "./providers/credentials";
import { UserMapping } from "./providers/userMapping";

/** Stack output that records which guests this stack invited (its ledger, read on the next run). */
export const LEDGER_OUTPUT = "invitedGuests";
/** Stack output that records the identity mappings this stack made (read on the next run). */
export const MAPPINGS_OUTPUT = "identityMappings";

/** What the program exports as stack outputs. */
export interface ProgramOutputs {
  readonly migrationPlan: MigrationPlan;
  readonly report: string;
  readonly invitedGuests: pulumi.Output<string[]>;
  /** The identity mappings this stack declares (resolve and cleanup phases): its second ledger. */
  readonly identityMappings: readonly {
    readonly userId: string;
    readonly from: string;
    readonly to: string;
  }[];
  /** The steps left for a human in this phase, with links (Markdown). */
  readonly manualSteps: string;
  /** Messages for users before and after the change (Markdown). */
  readonly userCommunication: { readonly before: string; readonly after: string };
  /** The temporary owner: configured or proposed address; undefined when the migration needs none. */
  readonly temporaryOwner?: {
    readonly msaEmail?: string;
    readonly proposedMsaEmail?: pulumi.Output<string>;
  };
  /** The connection, in the connect, resolve and cleanup phases. */
  readonly connection?: {
    readonly tenantId: pulumi.Output<string>;
    readonly verifiedAt: pulumi.Output<string>;
  };
}

type Step = "inventory" | "plan" | "declare resources";

/**
 * The phases that read billing: before the connection, when moving billing is still ahead, and in
 * `connect`, whose run makes the connection (docs/billing.md). Later phases do not ask again.
 */
const BILLING_PHASES: ReadonlySet<MigrationConfig["phase"]> = new Set(["prepare", "connect"]);

/** Seams for tests and benchmarks; production uses the defaults. */
export interface ProgramOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Entra credential used when no PAT is configured. */
  readonly entraCredential?: TokenCredential;
  readonly retry?: Partial<RetryPolicy>;
  /** Receives the Azure DevOps client, e.g. to count its requests. */
  readonly onClient?: (client: DevOpsClient) => void;
  /** Hears how long each step took (also logged), for the benchmark. */
  readonly onStep?: (step: Step, ms: number) => void;
  /** The run's date in messages (default: today, UTC). */
  readonly today?: string;
  /** Connection verification settings passed to the provider (tests shorten the wait). */
  readonly verify?: { readonly attempts: number; readonly intervalMs: number };
}

/**
 * The migration program: inventory → plan → phase checks → resources → outputs. Everything that can
 * fail on bad input, an unreachable API or a standing blocker fails here, before the first resource
 * is registered.
 */
export async function migrationProgram(
  loaded: LoadedConfig,
  options: ProgramOptions = {},
): Promise<ProgramOutputs> {
  const { config } = loaded;
  const org = config.organization;
  const clientOptions = {
    organization: org.name,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.env ? { env: options.env } : {}),
    onProgress: (message: string) => pulumi.log.info(message),
  };
  const ownerToken = loaded.devopsToken
    ? await revealForThisProcess(loaded.devopsToken)
    : undefined;
  const credential = resolveDevOpsCredential({
    ...(ownerToken !== undefined ? { configToken: ownerToken } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.entraCredential ? { entra: options.entraCredential } : {}),
  });
  pulumi.log.info(`Azure DevOps credential: ${credential.source}`);
  announceRedirection(options.env ?? process.env);
  const client = new DevOpsClient({ ...clientOptions, credential });
  options.onClient?.(client);
  // The same order as the providers: the config secret, else the environment.
  const temporaryToken = loaded.temporaryOwnerToken
    ? await revealForThisProcess(loaded.temporaryOwnerToken)
    : (options.env ?? process.env)[TEMPORARY_OWNER_PAT_ENV]?.trim() || undefined;
  const temporaryClient =
    temporaryToken !== undefined
      ? new DevOpsClient({
          ...clientOptions,
          credential: resolveDevOpsCredential({ configToken: temporaryToken, env: {} }),
        })
      : undefined;

  let started = Date.now();
  const stepDone = (step: Step, detail: string): void => {
    const ms = Date.now() - started;
    started = Date.now();
    options.onStep?.(step, ms);
    pulumi.log.info(`${step}: ${detail} (${(ms / 1000).toFixed(1)} s)`);
  };

  const organizationRead = client.getOrganization();
  const [
    users,
    organization,
    projects,
    directory,
    ledgers,
    ownerIdentity,
    temporaryIdentity,
    billing,
  ] = await Promise.all([
    client.listUsers(),
    organizationRead,
    client.listProjects(),
    readTenantDirectory(),
    readLedgers(),
    whoIs(client),
    temporaryClient ? whoIs(temporaryClient) : Promise.resolve(undefined),
    BILLING_PHASES.has(config.phase)
      ? billingOf(organizationRead, client, credential.source, options)
      : Promise.resolve(undefined),
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
  const connected = organization.tenantId === config.tenantId;
  if (organization.tenantId !== null && !connected && config.phase !== "prepare") {
    // Connected elsewhere: by hand in the portal after our connect (refresh shows it), or never ours.
    throw new pulumi.RunError(
      `The organization is connected to tenant ${organization.tenantId}, not to ${config.tenantId}; nothing was changed. ` +
        `Changing tenants loses Entra group permissions and can lock users out, and this program does not move organizations ` +
        `between tenants: find out who changed it and switch it back in the portal (Organization settings → Microsoft Entra).`,
    );
  }
  if ((config.phase === "resolve" || config.phase === "cleanup") && !connected) {
    throw new pulumi.RunError(
      `${CONFIG_NAMESPACE}:phase is ${config.phase}, but the organization is not connected to tenant ${config.tenantId} ` +
        `(it reports ${organization.tenantId ?? "no tenant"}). Nothing was changed. Run the connect phase first.`,
    );
  }

  const index = indexTenant(directory.users);
  const owner = users.find((u) => u.id === organization.ownerId);
  const ownerMatch = owner ? matchTenant(index, owner) : undefined;
  const msaEmail = config.temporaryOwner.msaEmail;
  const temporaryMatch = msaEmail ? identityAt(index, msaEmail) : undefined;
  const [ownerStanding, temporaryStanding] = await Promise.all([
    ownerMatch ? readStanding(ownerMatch.identity.objectId) : undefined,
    temporaryMatch ? readStanding(temporaryMatch.objectId) : undefined,
  ]).catch((err: unknown) => {
    throw new pulumi.RunError(
      `Reading the tenant failed; nothing was changed. ${(err as Error).message}`,
    );
  });

  if (
    msaEmail !== undefined &&
    temporaryStanding !== undefined &&
    temporaryStanding.externalUserState !== "PendingAcceptance" &&
    ledgers.temporaryOwner !== msaEmail
  ) {
    // Cleanup deletes the temporary owner's tenant user: it must be an account this stack invited,
    // never a pre-existing identity (a redeemed account it did not invite, or a member).
    throw new pulumi.RunError(
      `${CONFIG_NAMESPACE}:temporaryOwner.msaEmail ${msaEmail} is already an identity of the tenant (${temporaryMatch?.userPrincipalName}), ` +
        `not one this stack invited; the cleanup phase would delete it. Nothing was changed. Create a new Microsoft account for the migration and configure that one.`,
    );
  }

  const basePlan = planMigration({
    organization: org,
    tenantId: config.tenantId,
    phase: config.phase,
    organizationTenantId: organization.tenantId,
    ownerId: organization.ownerId,
    users,
    projects,
    tenant: {
      users: withStanding(directory.users, ownerMatch?.identity, ownerStanding),
      verifiedDomains: directory.verifiedDomains,
    },
    identityChanges: config.identityChanges,
    acceptHistoricUsers: config.acceptHistoricUsers,
    excludeUsers: config.excludeUsers,
    invitationUserType: config.invitation.userType,
    previouslyInvited: ledgers.invited,
    previouslyMapped: ledgers.mapped,
    ...(billing ? { billing } : {}),
  });

  // The seed's temporary owner: when needed and not configured, propose an alias that stays the
  // same from run to run (kept in the state) for a human to create.
  const needsTemporaryOwner = basePlan.blockers.some((b) => b.code === "TEMPORARY_OWNER_REQUIRED");
  const alias =
    needsTemporaryOwner && msaEmail === undefined && !connected
      ? new random.RandomPet("temporary-owner-alias", { length: 2, separator: "-" })
      : undefined;
  const proposedMsaEmail = alias?.id.apply(
    (pet) => `${org.name.toLowerCase()}-migration-${pet}@outlook.com`,
  );

  const temporaryUser = msaEmail
    ? users.find((u) => normalizeIdentity(u.principalName) === msaEmail)
    : undefined;
  const blockers = connectionBlockers({
    plan: basePlan,
    allowTfvc: config.allowTfvc,
    ...(owner ? { currentOwner: owner.principalName } : {}),
    ...(ownerStanding ? { ownerStanding } : {}),
    ownerToken: ownerIdentity,
    temporaryOwner: {
      ...(msaEmail ? { msaEmail } : {}),
      ...(temporaryStanding ? { standing: temporaryStanding } : {}),
      ...(temporaryUser
        ? { organizationUser: { signedIn: temporaryUser.lastAccessedDate !== undefined } }
        : {}),
      token: temporaryIdentity,
    },
  });
  // Once connected to the target, the connection's preconditions are history.
  const plan: MigrationPlan = { ...basePlan, blockers: connected ? [] : blockers };
  stepDone(
    "plan",
    Object.entries(plan.summary)
      .map(([category, n]) => `${category} ${n}`)
      .join(", "),
  );

  // Warnings and notices first: a refused connect shows them too (billing among them).
  for (const f of plan.warnings) pulumi.log.warn(`${f.code}: ${f.message}`);
  for (const f of plan.notices) pulumi.log.info(`${f.code}: ${f.message}`);
  if (config.phase === "connect" && !connected && plan.blockers.length > 0) {
    throw new pulumi.RunError(
      `The connect phase is refused: ${plan.blockers.length} blocker(s) stand, and nothing was changed.\n` +
        plan.blockers.map((b) => `  - ${b.code}: ${b.message}`).join("\n"),
    );
  }
  // In `prepare` blockers are reported, not fatal: the operator clears them before `connect`.
  for (const f of plan.blockers) pulumi.log.warn(`blocker ${f.code}: ${f.message}`);

  const message = config.invitation.sendEmail ? invitationMessage(config) : undefined;
  const guests = new TenantGuests("guests", {
    invitees: plan.users
      // Invited now, or on an earlier run: an invitation stays in the program even when the user
      // also needs a mapping after the connection.
      .filter((u) => u.category === "invite" || ledgers.invited.has(u.email))
      // The temporary owner has its own invitation; users sharing an address get one.
      .filter(
        (u, i, all) => u.email !== msaEmail && all.findIndex((o) => o.email === u.email) === i,
      )
      .map((u) => ({ email: u.email, ...(u.displayName ? { displayName: u.displayName } : {}) })),
    redirectUrl: config.invitation.redirectUrl,
    userType: config.invitation.userType,
    ...(message !== undefined ? { message } : {}),
  });

  // Who gets ownership back at cleanup: the owner now, unless ownership already moved to the
  // temporary owner (an earlier run), then the person whose token changes the owner.
  const handBackTo =
    owner && normalizeIdentity(owner.principalName) !== msaEmail
      ? owner.principalName
      : ownerIdentity &&
          "email" in ownerIdentity &&
          normalizeIdentity(ownerIdentity.email) !== msaEmail
        ? ownerIdentity.email
        : undefined;
  // The pairing lives until cleanup; leaving the program then is the hand-back.
  const temporaryOwner =
    msaEmail !== undefined && config.phase !== "cleanup"
      ? new TemporaryOwner("temporary-owner", {
          organization: org.name,
          msaEmail,
          userType: config.temporaryOwner.userType,
          redirectUrl: config.invitation.redirectUrl,
          ...(message !== undefined ? { message } : {}),
          takeOwnership: config.phase === "connect" || config.phase === "resolve",
          ...(handBackTo ? { handBackTo } : {}),
        })
      : undefined;

  const directoryConnection =
    config.phase === "prepare"
      ? undefined
      : new DirectoryConnection("directory", {
          organization: org.name,
          tenantId: config.tenantId,
          // Only the owner may connect: the temporary owner once ownership moved to it.
          role: config.phase === "connect" && temporaryOwner ? "temporaryOwner" : "owner",
          allowDisconnect: config.allowDisconnect,
          dependsOn: [
            guests,
            ...(temporaryOwner ? [temporaryOwner.ownership ?? temporaryOwner] : []),
          ],
          ...(options.verify
            ? {
                verifyAttempts: options.verify.attempts,
                verifyIntervalMs: options.verify.intervalMs,
              }
            : {}),
        });
  // Mappings need the connection, and a fresh token: the Microsoft-account tokens of the connect
  // phase may stop working once the organization is on the tenant. Hence their own phase.
  const mappings =
    directoryConnection && (config.phase === "resolve" || config.phase === "cleanup")
      ? plan.users.flatMap((u) =>
          u.category === "mapAfterConnect" && u.mapping ? [u.mapping] : [],
        )
      : [];
  for (const m of mappings) {
    new UserMapping(
      `map-${m.from}`,
      {
        organization: org.name,
        userId: m.userId,
        principalName: m.to,
        ...(m.originId ? { originId: m.originId } : {}),
        role: "owner",
      },
      { dependsOn: [directoryConnection as DirectoryConnection] },
    );
  }
  if (
    (loaded.devopsToken || loaded.temporaryOwnerToken) &&
    (temporaryOwner || directoryConnection)
  ) {
    // Recent engines (since late 2024) hand dynamic providers the whole stack config and record it,
    // encrypted, as their default provider's inputs: a token set in config is then in the state.
    pulumi.log.warn(
      "A token is set in the stack config: the engine records the stack config, encrypted, in the state of this stack's dynamic providers. " +
        "To keep credentials out of the state entirely, pass them as AZDO_PERSONAL_ACCESS_TOKEN / AZDO_TEMPORARY_OWNER_TOKEN (or use an Entra login) instead.",
    );
  }
  stepDone(
    "declare resources",
    `${guests.invitations.size} invitations${temporaryOwner ? ", temporary owner" : ""}${directoryConnection ? ", connection" : ""}, ${mappings.length} identity mappings`,
  );

  const facts = {
    phase: config.phase,
    organization: org.name,
    tenantId: config.tenantId,
    ...(directory.defaultDomain ? { tenantDomain: directory.defaultDomain } : {}),
    date: options.today ?? new Date().toISOString().slice(0, 10),
    plan,
    connected,
    ...(msaEmail || alias
      ? { temporaryOwner: { ...(msaEmail ? { msaEmail } : {}), proposed: alias !== undefined } }
      : {}),
  };
  return {
    migrationPlan: plan,
    report: renderReport(plan),
    invitedGuests: guests.invitedEmails,
    identityMappings: mappings.map((m) => ({ userId: m.userId, from: m.from, to: m.to })),
    manualSteps: manualSteps(facts),
    userCommunication: userCommunication(facts),
    ...(msaEmail || proposedMsaEmail
      ? {
          temporaryOwner: {
            ...(msaEmail ? { msaEmail } : {}),
            ...(proposedMsaEmail ? { proposedMsaEmail } : {}),
          },
        }
      : {}),
    ...(directoryConnection
      ? {
          connection: {
            tenantId: directoryConnection.tenantId,
            verifiedAt: directoryConnection.verifiedAt,
          },
        }
      : {}),
  };
}

/**
 * Reads the stack config and runs the program: what `index.ts` exports, and what the end-to-end
 * suite runs inline. A config error is the operator's to fix: printed without a stack trace.
 */
export function runFromStackConfig(options: ProgramOptions = {}): Promise<ProgramOutputs> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return Promise.reject(new pulumi.RunError(err.message));
    return Promise.reject(withoutPackageFrames(err));
  }
  return migrationProgram(loaded, options).catch((err: unknown) => {
    throw withoutPackageFrames(err);
  });
}

/**
 * Drops the stack frames inside `node_modules` from an error that leaves the program. The SDK
 * prints such an error with Node's `util.inspect`, and the SDK's own source maps turn its frames
 * into paths like `node_modules/@pulumi/resource.ts:1687:22` (a scope without a package), on which
 * `util.inspect` (Node 20 and 22) builds strings until it fails with "Invalid string length": about
 * 25 s of CPU on every refused run. The frames of the program itself are kept.
 */
export function withoutPackageFrames<T>(err: T): T {
  if (err instanceof Error && typeof err.stack === "string") {
    err.stack = err.stack
      .split("\n")
      .filter((line) => !/^\s+at .*[\\/]node_modules[\\/]/.test(line))
      .join("\n");
  }
  return err;
}

/**
 * A redirected Azure DevOps (the tests' and the sandbox's emulator) must never go unnoticed: every
 * call and its credential follow it. A redirection anywhere but loopback is refused.
 */
function announceRedirection(env: NodeJS.ProcessEnv): void {
  let redirected: string | undefined;
  try {
    redirected = baseUrlOverride(env);
  } catch (err) {
    throw new pulumi.RunError(`${(err as Error).message}. Nothing was changed.`);
  }
  if (redirected !== undefined) {
    pulumi.log.warn(
      `${BASE_URL_ENV} is set: every Azure DevOps call goes to ${redirected} (a local emulator), not to Azure DevOps.`,
    );
  }
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
 * The billing reading, once the organization's GUID is known. Never rejects: a billing failure is a
 * warning. The ARM token fallback is only "at hand" when the program already uses an Entra login;
 * the Azure DevOps credential itself never goes to Azure Resource Manager.
 */
function billingOf(
  organizationRead: Promise<{ readonly id?: string }>,
  client: DevOpsClient,
  credentialSource: DevOpsCredential["source"],
  options: ProgramOptions,
): Promise<BillingReading | undefined> {
  const entraLogin = credentialSource === "Entra (DefaultAzureCredential)";
  return organizationRead.then(
    (organization) =>
      readBilling(client, organization.id, {
        ...(options.env ? { env: options.env } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
        ...(entraLogin ? { armToken: armTokenFrom(options.entraCredential) } : {}),
      }),
    // The inventory reports the organization read's own failure.
    () => undefined,
  );
}

/** "Who am I" for a token; a failure is a finding, not a crash (the check reports it). */
async function whoIs(client: DevOpsClient): Promise<TokenIdentity> {
  try {
    const me = await client.whoAmI();
    return me.emailAddress
      ? { email: me.emailAddress }
      : { error: "the profile has no email address" };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * `getUsers` gives no `userType`; the owner's identity is replaced by its exact standing, since a
 * B2B member has a guest-style UPN too and the connection path depends on it.
 */
function withStanding(
  users: TenantIdentity[],
  identity: TenantIdentity | undefined,
  standing: TenantStanding | undefined,
): TenantIdentity[] {
  if (!identity || !standing || standing.kind === identity.kind) return users;
  return users.map((u) => (u === identity ? { ...u, kind: standing.kind } : u));
}

/**
 * Reads this stack's own previous outputs: the guests it invited and the users it mapped. After
 * `pulumi up` the invitees are users of the tenant and the mapped users answer to their new
 * identity; without these ledgers the next run would mistake them for pre-existing guests and
 * members, drop their resources and show a diff. A stack reference to the stack itself reads its
 * last saved outputs (none on the first run).
 */
async function readLedgers(): Promise<{
  invited: Set<string>;
  mapped: Map<string, MappingRecord>;
  /** The temporary owner this stack registered on its last run. */
  temporaryOwner?: string;
}> {
  const self = new pulumi.StackReference("ledger", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const [invited, mapped, temporary] = await Promise.all([
    self.getOutputDetails(LEDGER_OUTPUT),
    self.getOutputDetails(MAPPINGS_OUTPUT),
    self.getOutputDetails("temporaryOwner"),
  ]);
  const temporaryValue = (temporary.value ?? temporary.secretValue) as
    { msaEmail?: unknown } | undefined;
  const invitedValue = invited.value ?? invited.secretValue;
  const mappedValue = mapped.value ?? mapped.secretValue;
  return {
    ...(typeof temporaryValue?.msaEmail === "string"
      ? { temporaryOwner: normalizeIdentity(temporaryValue.msaEmail) }
      : {}),
    invited: new Set(
      Array.isArray(invitedValue)
        ? invitedValue.filter((v): v is string => typeof v === "string").map(normalizeIdentity)
        : [],
    ),
    mapped: new Map(
      (Array.isArray(mappedValue) ? mappedValue : []).flatMap((m: unknown) => {
        const r = m as { userId?: unknown; from?: unknown; to?: unknown };
        return typeof r.userId === "string" &&
          typeof r.from === "string" &&
          typeof r.to === "string"
          ? [[r.userId, { from: r.from, to: r.to }] as const]
          : [];
      }),
    ),
  };
}
