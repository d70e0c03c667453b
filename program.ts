import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { TokenCredential } from "@azure/identity";
import { DirectoryConnection } from "./components/directoryConnection";
import { TemporaryOwner } from "./components/temporaryOwner";
import { TenantGuests } from "./components/tenantGuests";
import { LoadedConfig, loadConfig } from "./config/load";
import { ConfigError, MigrationConfig, type Phase } from "./config/schema";
import { type DevOpsClient, isCredentialRefusal } from "./devops/client";
import { usersDigest } from "./devops/digest";
import { BASE_URL_ENV, baseUrlOverride } from "./devops/hosts";
import type { RetryPolicy } from "./devops/retry";
import { Clients, devopsClients } from "./inventory/clients";
import { Inventory, readInventory } from "./inventory/index";
import { manualSteps, userCommunication } from "./plan/communication";
import * as decide from "./plan/decisions";
import { GuardFacts, refusals } from "./plan/guards";
import { indexTenant } from "./plan/match";
import { planMigration } from "./plan/plan";
import { planInputOf } from "./plan/input";
import {
  blockersRefuse,
  connectionBlockers,
  refusingBlockers,
  standingBlockers,
} from "./plan/readiness";
import { renderReport } from "./plan/report";
import type { MigrationPlan } from "./plan/types";
import { UserMapping } from "./providers/userMapping";

/** What the program exports as stack outputs. */
export interface ProgramOutputs {
  readonly migrationPlan: MigrationPlan;
  readonly report: string;
  /** The addresses this stack invited (for people and pipelines; the program reads its state). */
  readonly invitedGuests: pulumi.Output<string[]>;
  /** The identity mappings this stack declares (resolve and cleanup phases). */
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
 * The migration program: inventory → guards → plan → decisions → resources → outputs. Everything
 * that can fail on bad input, an unreachable API, a guard or a standing blocker fails here, before
 * the first resource is registered.
 */
export async function migrationProgram(
  loaded: LoadedConfig,
  options: ProgramOptions = {},
): Promise<ProgramOutputs> {
  const { config } = loaded;
  const timer = stepTimer(options);
  const clients = await connect(loaded, options);
  const inventory = await readInventory(clients, {
    phase: config.phase,
    ...(config.temporaryOwner.msaEmail ? { temporaryOwner: config.temporaryOwner.msaEmail } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.entraCredential ? { entraCredential: options.entraCredential } : {}),
  }).catch((err: unknown) => {
    throw new pulumi.RunError(
      `Inventory failed; nothing was changed. ${(err as Error).message}${refusalHint(err, config.phase)}`,
    );
  });
  timer.done("inventory", inventorySummary(inventory, clients.owner));

  refuseUnsafe(guardFacts(config, inventory));
  const plan = readyPlan(loaded, inventory);
  timer.done("plan", summaryLine(plan));
  report(plan, config.phase, inventory.organization.tenantId === config.tenantId);

  const declared = declare(loaded, inventory, plan, options);
  timer.done("declare resources", declared.summary);
  return outputs(config, inventory, plan, declared, options);
}

/**
 * After the connection, the personal access tokens of Microsoft accounts may stop working: their
 * owners sign in with their Entra identity and create new ones (docs/procedure.md#after).
 */
function refusalHint(err: unknown, phase: Phase): string {
  if (phase === "prepare" || !isCredentialRefusal(err)) return "";
  return "\nOnce the organization is connected, a personal access token issued to a Microsoft account can stop working: sign in to Azure DevOps with the Entra identity, create a new token, and set it (AZDO_PERSONAL_ACCESS_TOKEN or devopsToken; AZDO_TEMPORARY_OWNER_TOKEN or temporaryOwner.devopsToken).";
}

/** The clients, with the credential and any redirection announced. */
async function connect(loaded: LoadedConfig, options: ProgramOptions): Promise<Clients> {
  announceRedirection(options.env ?? process.env);
  const clients = await devopsClients(loaded, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.entraCredential ? { entraCredential: options.entraCredential } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    onProgress: (message: string) => pulumi.log.info(message),
  });
  pulumi.log.info(`Azure DevOps credential: ${clients.ownerSource}`);
  options.onClient?.(clients.owner);
  return clients;
}

function stepTimer(options: ProgramOptions): { done(step: Step, detail: string): void } {
  let started = Date.now();
  return {
    done(step, detail) {
      const ms = Date.now() - started;
      started = Date.now();
      options.onStep?.(step, ms);
      pulumi.log.info(`${step}: ${detail} (${(ms / 1000).toFixed(1)} s)`);
    },
  };
}

function inventorySummary(inventory: Inventory, client: DevOpsClient): string {
  return `${inventory.listing.users.length} organization users, ${inventory.projects.length} projects, ${inventory.tenant.users.length} tenant users, ${client.requestCount} Azure DevOps requests`;
}

function summaryLine(plan: MigrationPlan): string {
  return Object.entries(plan.summary)
    .map(([category, n]) => `${category} ${n}`)
    .join(", ");
}

/** The facts the guards read. */
function guardFacts(config: MigrationConfig, inventory: Inventory): GuardFacts {
  return {
    phase: config.phase,
    organization: config.organization.name,
    tenantId: config.tenantId,
    ...(config.temporaryOwner.msaEmail ? { temporaryOwner: config.temporaryOwner.msaEmail } : {}),
    signedInTenantId: inventory.tenant.signedInTenantId,
    organizationTenantId: inventory.organization.tenantId,
    ownerId: inventory.organization.ownerId,
    users: inventory.listing.users,
    tenantUsers: inventory.tenant.users,
    ledger: inventory.ledger,
  };
}

/** A guard's refusal stops the run with every reason at once. */
function refuseUnsafe(facts: GuardFacts): void {
  const reasons = refusals(facts);
  if (reasons.length === 0) return;
  throw new pulumi.RunError(
    `The ${facts.phase} phase is refused, and nothing was changed:\n${reasons.map((r) => `  - ${r}`).join("\n")}`,
  );
}

/**
 * The plan with the connection's readiness folded in, and the blockers that still stand; a phase
 * they refuse stops here.
 */
function readyPlan(loaded: LoadedConfig, inventory: Inventory): MigrationPlan {
  const { config } = loaded;
  const base = planMigration(planInputOf(config, inventory));
  const connected = inventory.organization.tenantId === config.tenantId;
  const msaEmail = config.temporaryOwner.msaEmail;
  const owner = inventory.listing.users.find((u) => u.id === inventory.organization.ownerId);
  const temporaryUser = msaEmail
    ? inventory.listing.users.find((u) => u.principalName.toLowerCase() === msaEmail)
    : undefined;
  const blockers = connectionBlockers({
    plan: base,
    allowTfvc: config.allowTfvc,
    ...(owner ? { currentOwner: { principalName: owner.principalName, id: owner.id } } : {}),
    ...(inventory.standings.owner ? { ownerStanding: inventory.standings.owner.standing } : {}),
    ownerToken: inventory.ownerToken,
    temporaryOwner: {
      ...(msaEmail ? { msaEmail } : {}),
      ...(inventory.standings.temporaryOwner
        ? { standing: inventory.standings.temporaryOwner }
        : {}),
      ...(temporaryUser
        ? {
            organizationUser: {
              id: temporaryUser.id,
              signedIn: temporaryUser.lastAccessedDate !== undefined,
            },
          }
        : {}),
      token: inventory.temporaryToken,
    },
  });
  const plan: MigrationPlan = { ...base, blockers: standingBlockers(connected, blockers) };
  const refusing = refusingBlockers(config.phase, connected, plan.blockers);
  if (refusing.length > 0) {
    // Warnings first: the operator reads everything the preview found, not only the refusal.
    for (const f of plan.warnings) pulumi.log.warn(`${f.code}: ${f.message}`);
    throw new pulumi.RunError(
      `The ${config.phase} phase is refused: ${refusing.length} blocker(s) stand, and nothing was changed.\n` +
        refusing.map((b) => `  - ${b.code}: ${b.message}`).join("\n"),
    );
  }
  return plan;
}

/** Every finding goes to the log: blockers and warnings as warnings, notices as information. */
function report(plan: MigrationPlan, phase: string, connected: boolean): void {
  // In `prepare` blockers are reported, not fatal: the operator clears them before `connect`.
  if (!blockersRefuse(phase, connected)) {
    for (const f of plan.blockers) pulumi.log.warn(`blocker ${f.code}: ${f.message}`);
  }
  for (const f of plan.warnings) pulumi.log.warn(`${f.code}: ${f.message}`);
  for (const f of plan.notices) pulumi.log.info(`${f.code}: ${f.message}`);
}

interface Declared {
  readonly guests: TenantGuests;
  readonly alias?: random.RandomPet;
  readonly temporaryOwner?: TemporaryOwner;
  readonly connection?: DirectoryConnection;
  readonly mappings: readonly decide.MappingDecision[];
  readonly summary: string;
}

/** Turns the decisions into resources. */
function declare(
  loaded: LoadedConfig,
  inventory: Inventory,
  plan: MigrationPlan,
  options: ProgramOptions,
): Declared {
  const { config } = loaded;
  const org = config.organization.name;
  const connected = inventory.organization.tenantId === config.tenantId;
  const msaEmail = config.temporaryOwner.msaEmail;
  const message = config.invitation.sendEmail ? invitationMessage(config) : undefined;
  const guests = new TenantGuests("guests", {
    // The temporary account has its own invitation, also in the run that gives it up.
    invitees: decide.invitees(
      plan,
      inventory.ledger.invited,
      msaEmail ?? inventory.ledger.temporaryOwner?.msaEmail,
    ),
    redirectUrl: config.invitation.redirectUrl,
    userType: config.invitation.userType,
    ...(message !== undefined ? { message } : {}),
  });
  const alias = decide.proposesTemporaryOwner(plan, msaEmail, connected)
    ? new random.RandomPet("temporary-owner-alias", { length: 2, separator: "-" })
    : undefined;
  const temporaryOwner = declareTemporaryOwner(loaded, inventory, message);
  const connection =
    config.phase === "prepare"
      ? undefined
      : declareConnection(config, inventory, guests, temporaryOwner, options);
  const mappings = decide.mappings(plan, config.phase, connected);
  for (const m of mappings) {
    new UserMapping(
      `map-${m.from}`,
      {
        organization: org,
        userId: m.userId,
        principalName: m.to,
        ...(m.originId ? { originId: m.originId } : {}),
        mappedFrom: m.from,
        role: "owner",
      },
      { dependsOn: connection ? [connection] : [] },
    );
  }
  warnAboutConfigTokens(loaded, temporaryOwner !== undefined || connection !== undefined);
  return {
    guests,
    ...(alias ? { alias } : {}),
    ...(temporaryOwner ? { temporaryOwner } : {}),
    ...(connection ? { connection } : {}),
    mappings,
    summary: `${guests.invitations.size} invitations${temporaryOwner ? ", temporary owner" : ""}${connection ? ", connection" : ""}, ${mappings.length} identity mappings`,
  };
}

function declareTemporaryOwner(
  loaded: LoadedConfig,
  inventory: Inventory,
  message: string | undefined,
): TemporaryOwner | undefined {
  const { config } = loaded;
  const recorded = inventory.ledger.temporaryOwner;
  const guestIsOwn = decide.temporaryGuestIsOwn(
    indexTenant(inventory.tenant.users),
    recorded?.tenantUserId,
    decide.invitedTemporaryAddress(config.temporaryOwner.msaEmail, recorded),
  );
  const stage = decide.pairingStage({
    phase: config.phase,
    ...(config.temporaryOwner.msaEmail ? { temporaryOwner: config.temporaryOwner.msaEmail } : {}),
    guestIsOwn,
    holdsInvitation: recorded?.invitationRecorded === true,
    ...(recorded?.stage ? { recordedStage: recorded.stage } : {}),
    ...(recorded?.guestDeletable !== undefined
      ? { recordedGuestDeletable: recorded.guestDeletable }
      : {}),
  });
  const msaEmail = config.temporaryOwner.msaEmail ?? recorded?.msaEmail;
  if (stage === undefined || msaEmail === undefined) return undefined;
  warnAboutTemporaryGuest(stage, guestIsOwn, recorded, inventory);
  const handBackTo = decide.handBackTo(
    inventory.listing.users,
    inventory.organization.ownerId,
    recorded?.ownerBefore,
    recorded?.userId,
  );
  return new TemporaryOwner("temporary-owner", {
    organization: config.organization.name,
    msaEmail,
    userType: config.temporaryOwner.userType,
    redirectUrl: config.invitation.redirectUrl,
    ...(message !== undefined ? { message } : {}),
    stage,
    // Until a run has seen the invitation's user answer to the address, deleting it is not safe.
    retainGuest: !guestIsOwn,
    ...(handBackTo ? { handBackTo } : {}),
  });
}

/** Says why the temporary owner's invitation is kept out of deletes, when it is not the first run's. */
function warnAboutTemporaryGuest(
  stage: decide.PairingStage,
  guestIsOwn: boolean,
  recorded: Inventory["ledger"]["temporaryOwner"],
  inventory: Inventory,
): void {
  if (stage === "releaseInvitation") {
    pulumi.log.info(
      "The temporary owner's invitation is declared once more, now deletable: run `pulumi up` once more to delete its guest and finish.",
    );
    return;
  }
  if (guestIsOwn || recorded?.invitationRecorded !== true) return;
  const user = inventory.tenant.users.find((u) => u.objectId === recorded.tenantUserId);
  const what =
    user === undefined
      ? "its tenant user is gone"
      : `Entra answered it with an existing user, ${user.userPrincipalName}, not with a guest of its own`;
  pulumi.log.warn(
    stage === "forgetInvitation"
      ? `The temporary owner's invitation is kept in this run only so that it is forgotten, not deleted: ${what}. Run \`pulumi up\` once more to finish.`
      : `The temporary owner's invitation is kept out of every delete: ${what}. Configure a new Microsoft account for the migration (remove temporaryOwner.msaEmail and run \`pulumi up\` first).`,
  );
}

function declareConnection(
  config: MigrationConfig,
  inventory: Inventory,
  guests: TenantGuests,
  temporaryOwner: TemporaryOwner | undefined,
  options: ProgramOptions,
): DirectoryConnection {
  const role = decide.connectingRole(config.phase, temporaryOwner?.stage);
  return new DirectoryConnection("directory", {
    organization: config.organization.name,
    tenantId: config.tenantId,
    role,
    allowDisconnect: config.allowDisconnect,
    // Checked again right before the connect call: nothing changed since this plan.
    preconditions: {
      usersDigest: usersDigest(inventory.listing.users),
      ...(role === "temporaryOwner" && inventory.ledger.temporaryOwner?.userId
        ? { ownerId: inventory.ledger.temporaryOwner.userId }
        : { ownerId: inventory.organization.ownerId }),
      allowTfvc: config.allowTfvc,
    },
    dependsOn: [guests, ...(temporaryOwner ? [temporaryOwner.ownership ?? temporaryOwner] : [])],
    ...(options.verify
      ? { verifyAttempts: options.verify.attempts, verifyIntervalMs: options.verify.intervalMs }
      : {}),
  });
}

/**
 * Recent engines (since late 2024) hand dynamic providers the whole stack config and record it,
 * encrypted, as their default provider's inputs: a token set in config is then in the state.
 */
function warnAboutConfigTokens(loaded: LoadedConfig, dynamicResources: boolean): void {
  if (!(loaded.devopsToken || loaded.temporaryOwnerToken) || !dynamicResources) return;
  pulumi.log.warn(
    "A token is set in the stack config: the engine records the stack config, encrypted, in the state of this stack's dynamic providers. " +
      "To keep credentials out of the state entirely, pass them as AZDO_PERSONAL_ACCESS_TOKEN / AZDO_TEMPORARY_OWNER_TOKEN (or use an Entra login) instead.",
  );
}

function outputs(
  config: MigrationConfig,
  inventory: Inventory,
  plan: MigrationPlan,
  declared: Declared,
  options: ProgramOptions,
): ProgramOutputs {
  const msaEmail = config.temporaryOwner.msaEmail;
  const proposedMsaEmail = declared.alias?.id.apply(
    (pet) => `${config.organization.name}-migration-${pet}@outlook.com`,
  );
  const facts = {
    phase: config.phase,
    organization: config.organization.name,
    tenantId: config.tenantId,
    ...(inventory.tenant.defaultDomain ? { tenantDomain: inventory.tenant.defaultDomain } : {}),
    date: options.today ?? new Date().toISOString().slice(0, 10),
    plan,
    connected: inventory.organization.tenantId === config.tenantId,
    ...(msaEmail || declared.alias
      ? {
          temporaryOwner: {
            ...(msaEmail ? { msaEmail } : {}),
            proposed: declared.alias !== undefined,
          },
        }
      : {}),
  };
  return {
    migrationPlan: plan,
    report: renderReport(plan),
    invitedGuests: declared.guests.invitedEmails,
    identityMappings: declared.mappings.map((m) => ({ userId: m.userId, from: m.from, to: m.to })),
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
    ...(declared.connection
      ? {
          connection: {
            tenantId: declared.connection.tenantId,
            verifiedAt: declared.connection.verifiedAt,
          },
        }
      : {}),
  };
}

/**
 * Reads the stack config and runs the program: what `index.ts` exports. A config error is the
 * operator's to fix: printed without a stack trace.
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
