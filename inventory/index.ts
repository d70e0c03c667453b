/**
 * Everything a run knows before it decides anything: the organization (users, owner, tenant,
 * projects), the tenant, this stack's own resources, who each token belongs to and, where it is
 * shown, billing. Read in parallel; any read that fails fails the run before a resource is
 * registered (billing aside, which is never more than a warning).
 */
import type { TokenCredential } from "@azure/identity";
import { armTokenFrom } from "../azure/armToken";
import { readBilling } from "../azure/billing";
import type { Phase } from "../config/schema";
import {
  type DevOpsClient,
  type OrganizationInfo,
  type ProjectInfo,
  type UserListing,
  isCredentialRefusal,
} from "../devops/client";
import type { RetryPolicy } from "../devops/retry";
import { identitiesAt, indexTenant, matchUser } from "../plan/match";
import type { TenantStanding, TokenIdentity } from "../plan/readiness";
import type { BillingReading, TenantIdentity } from "../plan/types";
import type { Clients } from "./clients";
import { TenantReading, readStanding, readTenant } from "./entra";
import { StackLedger, readStackLedger } from "./stack";

export interface Inventory {
  readonly listing: UserListing;
  readonly organization: OrganizationInfo;
  readonly projects: readonly ProjectInfo[];
  readonly tenant: TenantReading;
  readonly ledger: StackLedger;
  /** Who `devopsToken` (or its fallbacks) belongs to. */
  readonly ownerToken: TokenIdentity;
  /** Who the temporary owner's token belongs to; undefined when there is none. */
  readonly temporaryToken: TokenIdentity;
  /** The exact standing of the identities that may connect (`getUser`, one request each). */
  readonly standings: {
    readonly owner?: { readonly identity: TenantIdentity; readonly standing: TenantStanding };
    readonly temporaryOwner?: TenantStanding;
  };
  readonly billing?: BillingReading;
}

/** The phases that show billing: before the connection, when it can still be fixed in time. */
const BILLING_PHASES: ReadonlySet<Phase> = new Set(["prepare", "connect"]);

export interface InventoryOptions {
  readonly phase: Phase;
  readonly temporaryOwner?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly retry?: Partial<RetryPolicy>;
  readonly entraCredential?: TokenCredential;
}

export async function readInventory(
  clients: Clients,
  options: InventoryOptions,
): Promise<Inventory> {
  const client = clients.owner;
  const organizationRead = client.getOrganization();
  const [listing, organization, projects, tenant, ledger, ownerToken, temporaryToken, billing] =
    await Promise.all([
      client.listUsers(),
      organizationRead,
      client.listProjects(),
      readTenant(),
      readStackLedger(),
      whoIs(client),
      clients.temporaryOwner ? whoIs(clients.temporaryOwner) : Promise.resolve(undefined),
      BILLING_PHASES.has(options.phase)
        ? billingOf(organizationRead, clients, options)
        : Promise.resolve(undefined),
    ]);
  const standings = await readStandings(listing, organization, tenant, options.temporaryOwner);
  return {
    listing,
    organization,
    projects,
    tenant,
    ledger,
    ownerToken,
    temporaryToken,
    standings,
    ...(billing ? { billing } : {}),
  };
}

/**
 * `getUsers` gives no `userType` nor invitation state: the owner's and the temporary owner's exact
 * standing, which decides who may connect, is read for them alone.
 */
async function readStandings(
  listing: UserListing,
  organization: OrganizationInfo,
  tenant: TenantReading,
  temporaryOwner: string | undefined,
): Promise<Inventory["standings"]> {
  const index = indexTenant(tenant.users);
  const owner = listing.users.find((u) => u.id === organization.ownerId);
  const ownerIdentity = owner ? matchUser(index, owner).candidates : [];
  const temporary = temporaryOwner ? identitiesAt(index, temporaryOwner) : [];
  const [ownerStanding, temporaryStanding] = await Promise.all([
    ownerIdentity.length === 1 ? readStanding(ownerIdentity[0].objectId) : undefined,
    temporary.length === 1 ? readStanding(temporary[0].objectId) : undefined,
  ]);
  return {
    ...(ownerStanding ? { owner: { identity: ownerIdentity[0], standing: ownerStanding } } : {}),
    ...(temporaryStanding ? { temporaryOwner: temporaryStanding } : {}),
  };
}

/** "Who am I" for a token; a failure is a finding, not a crash (the readiness check reports it). */
async function whoIs(client: DevOpsClient): Promise<TokenIdentity> {
  try {
    const me = await client.whoAmI();
    return { id: me.id, ...(me.emailAddress ? { email: me.emailAddress } : {}) };
  } catch (err) {
    return { error: `${(err as Error).message}${profileRefusalHint(err)}` };
  }
}

/**
 * The profile service takes only personal access tokens made for "All accessible organizations"
 * (docs/azure-devops-apis.md#profile): a refusal there is most often a token made for this one.
 */
function profileRefusalHint(err: unknown): string {
  if (!isCredentialRefusal(err)) return "";
  return ". The profile service refuses a personal access token made for one organization: create it for All accessible organizations, or sign in with Entra (az login) instead";
}

/** Billing, once the organization's id is known; never fails the inventory. */
function billingOf(
  organizationRead: Promise<{ readonly id?: string }>,
  clients: Clients,
  options: InventoryOptions,
): Promise<BillingReading | undefined> {
  const entraLogin = clients.ownerSource === "Entra (DefaultAzureCredential)";
  return organizationRead.then(
    (organization) =>
      readBilling(clients.owner, organization.id, {
        ...(options.env ? { env: options.env } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
        ...(entraLogin ? { armToken: armTokenFrom(options.entraCredential) } : {}),
      }),
    // The inventory reports the organization read's own failure.
    () => undefined,
  );
}
