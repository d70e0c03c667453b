/**
 * Microsoft Graph's invitation manager and the real azuread provider's `Invitation` lifecycle
 * (hashicorp/terraform-provider-azuread, internal/services/invitations/invitation_resource.go,
 * which `@pulumi/azuread` bridges), as the test doubles play them on an emulated tenant: the e2e
 * azuread stand-in on the emulator's control API, the mini engine on the in-process emulator, and
 * the Pulumi mocks on their own copy of the world. One implementation, so the three cannot drift
 * apart. Each behaviour carries a `rule <id> [<class>]` tag; docs/test-doubles.md lists them
 * with their evidence.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import {
  type ExternalUserState,
  type TenantUser,
  externalAddressOf,
  isExternalUpn,
  objectIdOf,
} from "../emulator/world";

/** A tenant user as Graph returns it: with its object id. */
export type StoredUser = TenantUser & { readonly objectId: string };

/** The tenant as a snapshot of raw users (defaults not filled in). */
export interface TenantSnapshot {
  readonly id: string;
  readonly domains: readonly string[];
  readonly users: readonly TenantUser[];
}

/** The Graph operations the invitation lifecycle needs, on wherever a double keeps the tenant. */
export interface TenantStore {
  tenant(): Promise<{ readonly id: string; readonly domains: readonly string[] }>;
  /** The users Graph's invitation check finds under this address ({@link addressesOf}). */
  invitees(address: string): Promise<readonly StoredUser[]>;
  /** `GET /users/{objectId}`; undefined for a 404. */
  user(objectId: string): Promise<StoredUser | undefined>;
  /** The user the invitation manager creates. */
  add(user: StoredUser): Promise<void>;
  /** `PATCH /users/{objectId}` of the fields given. */
  patch(objectId: string, fields: Pick<TenantUser, "companyName">): Promise<void>;
  /** `DELETE /users/{objectId}`. */
  remove(objectId: string): Promise<void>;
}

/** The writes of a {@link snapshotStore}. */
export type TenantWrites = Pick<TenantStore, "add" | "patch" | "remove">;

/** A store whose reads scan a fresh snapshot each time (the emulator, in-process or over HTTP). */
export function snapshotStore(
  snapshot: () => Promise<TenantSnapshot>,
  writes: TenantWrites,
): TenantStore {
  const users = async (): Promise<StoredUser[]> => {
    const t = await snapshot();
    return t.users.map((u) => ({ ...u, objectId: objectIdOf(u, t.id) }));
  };
  return {
    ...writes,
    tenant: async () => {
      const t = await snapshot();
      return { id: t.id, domains: t.domains };
    },
    invitees: async (address) => new InviteeIndex(await users()).matching(address),
    user: async (objectId) => {
      const wanted = objectId.toLowerCase();
      return wanted === "" ? undefined : (await users()).find((u) => u.objectId === wanted);
    },
  };
}

/**
 * The load-bearing guesses a scenario can turn: what the provider's principal may do, how Entra
 * replicates a new guest, and what Graph stores as a new guest's mail. Defaults follow the evidence.
 */
export interface GraphSwitches {
  /**
   * The provider's principal may write users (User.ReadWrite.All, User Administrator), not only
   * invite them (User.Invite.All, Guest Inviter). Default true, the setup the README asks for.
   */
  readonly inviterCanWriteUsers: boolean;
  /** How many Graph calls answer 404 for a new guest before it is replicated. Default 0. */
  readonly replicationLag: number;
  /** Invited address (lower case) → the mail Graph stores for the new guest, or null for none. */
  readonly guestMail: Readonly<Record<string, string | null>>;
  /** Graph's failing answers to the invitation of an address ({@link GraphFault}). Default none. */
  readonly faults: readonly GraphFault[];
}

/**
 * Graph answers the invitation of one address with an error status (throttling: 429; an outage:
 * 503) before it acts, for `times` of the provider's attempts in each create (default: all).
 */
export interface GraphFault {
  /** The invited address (any case). */
  readonly address: string;
  /** The HTTP status Graph answers, 400-599. */
  readonly status: number;
  /** How many attempts of each create it answers; default every attempt. */
  readonly times?: number;
}

export const REALISTIC_GRAPH: GraphSwitches = {
  inviterCanWriteUsers: true,
  replicationLag: 0,
  guestMail: {},
  faults: [],
};

/** Env vars with which a scenario sets {@link GraphSwitches} for the e2e stand-in. */
export const GRAPH_SWITCH_ENV = {
  /** "false": the principal holds User.Invite.All (or Guest Inviter) only. */
  inviterCanWriteUsers: "E2E_AZUREAD_INVITER_CAN_WRITE_USERS",
  /** A whole number of 404s; above {@link REPLICATION_RETRY_BUDGET} the create times out. */
  replicationLag: "E2E_AZUREAD_REPLICATION_LAG",
  /** JSON `{ "<invited address>": "<mail Graph stores>" | null }`. */
  guestMail: "E2E_AZUREAD_GUEST_MAIL",
  /** JSON `[{ "address": "<invited address>", "status": 429, "times": <attempts> }]` ({@link GraphFault}). */
  faults: "E2E_AZUREAD_GRAPH_FAULTS",
} as const;

// rule Z28 [guess] hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go Create: the first PATCH's RetryFunc retries 404/500/503 until the 5-minute create timeout; how many attempts fit is not public, 30 stands for it
export const REPLICATION_RETRY_BUDGET = 30;

/** The switches a scenario's environment sets; anything unset keeps its realistic default. */
export function graphSwitchesFromEnv(env: NodeJS.ProcessEnv = process.env): GraphSwitches {
  const canWrite = env[GRAPH_SWITCH_ENV.inviterCanWriteUsers]?.trim().toLowerCase();
  const lag = env[GRAPH_SWITCH_ENV.replicationLag]?.trim();
  const mails = env[GRAPH_SWITCH_ENV.guestMail]?.trim();
  const replicationLag = lag ? Number(lag) : REALISTIC_GRAPH.replicationLag;
  if (!Number.isInteger(replicationLag) || replicationLag < 0) {
    throw new Error(`${GRAPH_SWITCH_ENV.replicationLag} must be a whole number (got ${lag})`);
  }
  const guestMail = mails ? (JSON.parse(mails) as Record<string, string | null>) : {};
  return {
    inviterCanWriteUsers: canWrite ? canWrite !== "false" : REALISTIC_GRAPH.inviterCanWriteUsers,
    replicationLag,
    guestMail: Object.fromEntries(Object.entries(guestMail).map(([k, v]) => [k.toLowerCase(), v])),
    faults: graphFaultsOf(env[GRAPH_SWITCH_ENV.faults]),
  };
}

/** The faults an env var lists, checked: a malformed list fails the create that reads it. */
function graphFaultsOf(raw: string | undefined): GraphFault[] {
  if (raw === undefined || raw.trim() === "") return [];
  const what = `${GRAPH_SWITCH_ENV.faults} must be a JSON list of {"address", "status", "times"?}`;
  const list = JSON.parse(raw) as unknown;
  if (!Array.isArray(list)) throw new Error(`${what} (got ${raw})`);
  return list.map((entry: unknown) => {
    const f = (entry ?? {}) as Record<string, unknown>;
    const valid =
      typeof f.address === "string" &&
      Number.isInteger(f.status) &&
      (f.status as number) >= 400 &&
      (f.status as number) <= 599 &&
      (f.times === undefined || (Number.isInteger(f.times) && (f.times as number) >= 1));
    if (!valid) throw new Error(`${what} (got ${JSON.stringify(entry)})`);
    return {
      address: (f.address as string).trim().toLowerCase(),
      status: f.status as number,
      ...(f.times !== undefined ? { times: f.times as number } : {}),
    };
  });
}

// rule F9 [obs] the provider's client retries 429 and 5xx but 501, honouring Retry-After (else a backoff of 2^n s up to 61 s), 9 times within the invitation's 5-minute create timeout: 10 attempts, then the last answer is the error; any other status fails the first attempt; the doubles count the attempts and do not wait (hashicorp/go-azure-sdk sdk/client/client.go retryableClient and Execute, retryablehttp.DefaultRetryPolicy; hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go Timeouts)
export const INVITATION_ATTEMPTS = 10;

/** Whether the provider's client retries this status (retryablehttp.DefaultRetryPolicy). */
function retried(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/**
 * The error `POST /invitations` ends with when a scenario's fault outlasts the provider's
 * attempts, else undefined (the create goes through on a later attempt).
 */
export function invitationFault(address: string, switches: GraphSwitches): Error | undefined {
  // rule F8 [guess] a Graph fault (switch E2E_AZUREAD_GRAPH_FAULTS) answers before Graph acts: the failed invitation creates no user and sends nothing (none: whether a 5xx can come after Graph made the invitation is not known)
  const fault = switches.faults.find((f) => f.address === address.trim().toLowerCase());
  if (fault === undefined) return undefined;
  const attempts = retried(fault.status) ? INVITATION_ATTEMPTS : 1;
  if ((fault.times ?? Infinity) < attempts) return undefined;
  const reason = STATUS_CODES[fault.status] ?? "Error";
  const code = fault.status === 429 ? "TooManyRequests" : reason.replace(/\W+/g, "");
  return new Error(
    `Creating invitation: unexpected status ${fault.status} (${fault.status} ${reason}) with error: ${code}: Injected fault: Graph answers ${fault.status} to the invitation of ${address.trim()}.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Graph's invitation manager (POST /invitations)

/** The tenant's initial domain, where Entra writes guest UPNs. */
export function initialDomain(domains: readonly string[]): string {
  // rule Z19 [doc] learn.microsoft.com/entra/external-id/user-properties: a guest's UPN is alias_domain#EXT# at the tenant's initial *.onmicrosoft.com domain (one per tenant; the world's first such domain)
  return domains.find((d) => d.toLowerCase().endsWith(".onmicrosoft.com")) ?? domains[0];
}

/** Entra writes an invited alias@domain as `alias_domain#EXT#@<initial domain>`. */
export function guestUpnFor(address: string, domains: readonly string[]): string {
  return `${address.replace("@", "_")}#EXT#@${initialDomain(domains)}`;
}

/** Every address under which Graph's invitation check finds a user, lower case. */
function addressesOf(user: TenantUser): string[] {
  // rule Z32 [doc] learn.microsoft.com/entra/external-id/customize-invitation-api "Determine if a user was already invited": userPrincipalName, mail, proxyAddresses (SMTP:), signInNames, otherMails; signInNames (B2C local accounts) are not modelled
  const proxies = (user.proxyAddresses ?? []).map((p) => p.replace(/^smtp:/i, ""));
  const invited = externalAddressOf(user.userPrincipalName);
  return [
    user.userPrincipalName,
    ...(typeof user.mail === "string" ? [user.mail] : []),
    ...proxies,
    ...(user.otherMails ?? []),
    ...(invited !== undefined ? [invited] : []),
  ].map((a) => a.toLowerCase());
}

/**
 * The tenant's users by every address the invitation check matches; built once and kept up to date
 * as users come and go, so that thousands of invitations cost one pass over the tenant.
 */
export class InviteeIndex<U extends TenantUser = StoredUser> {
  private readonly byAddress = new Map<string, U[]>();

  constructor(users: readonly U[]) {
    for (const u of users) this.add(u);
  }

  add(user: U): void {
    for (const a of new Set(addressesOf(user))) {
      const list = this.byAddress.get(a);
      if (list) list.push(user);
      else this.byAddress.set(a, [user]);
    }
  }

  remove(user: U): void {
    for (const a of new Set(addressesOf(user))) {
      const rest = (this.byAddress.get(a) ?? []).filter((u) => u !== user);
      if (rest.length > 0) this.byAddress.set(a, rest);
      else this.byAddress.delete(a);
    }
  }

  matching(address: string): readonly U[] {
    return this.byAddress.get(address.trim().toLowerCase()) ?? [];
  }
}

/** What Graph does with an invited address. */
export type Invitee =
  | { readonly kind: "internal"; readonly user: StoredUser }
  | { readonly kind: "existing"; readonly user: StoredUser }
  | { readonly kind: "new" };

export function classifyInvitee(matches: readonly StoredUser[]): Invitee {
  // rule Z4 [obs] microsoftgraph/msgraph-beta-sdk-dotnet#798: an address of a user who is not external is refused, "The invited user already exists in the directory as objectID: …" (the portal: "Non-external user already exists…", MicrosoftDocs/entra-docs#802)
  const internal = matches.find((u) => !isExternalUpn(u.userPrincipalName));
  if (internal !== undefined) return { kind: "internal", user: internal };
  // rule Z5 [obs] learn.microsoft.com/entra/external-id/customize-invitation-api ("won't receive an invitation"), hashicorp/terraform-provider-azuread PR #1075 ("Multiple people could invite the same person"): an existing external user is the invited user, nothing is created
  return matches.length > 0 ? { kind: "existing", user: matches[0] } : { kind: "new" };
}

/** Graph's answer to an invitation for the address of a user who is not external. */
export function alreadyInDirectoryError(objectId: string): Error {
  // rule Z22 [guess] the status line, OData code and the provider's "Creating invitation: …" / "Deleting invited User (User: …)" wrappings follow go-azure-sdk's error format; no public capture of these exact answers
  return new Error(
    `Creating invitation: unexpected status 400 (400 Bad Request) with error: BadRequest: The invited user already exists in the directory as objectID: ${objectId}. They can use that account to sign in to shared apps and resources.`,
  );
}

/** The inputs the provider sends to `POST /invitations`. */
export interface InvitationInputs {
  readonly userEmailAddress: string;
  readonly userType?: string;
  readonly userDisplayName?: string;
}

/** What the provider sends to Graph from a resource's (plain) inputs. */
export function invitationInputsOf(inputs: Record<string, unknown>): InvitationInputs {
  const text = (v: unknown): v is string => typeof v === "string" && v !== "";
  return {
    userEmailAddress: String(inputs.userEmailAddress).trim(),
    ...(text(inputs.userType) ? { userType: inputs.userType } : {}),
    ...(text(inputs.userDisplayName) ? { userDisplayName: inputs.userDisplayName } : {}),
  };
}

/** The user the invitation manager creates for a new address. */
export function newGuest(
  inputs: InvitationInputs,
  domains: readonly string[],
  switches: GraphSwitches,
): StoredUser {
  const address = inputs.userEmailAddress.trim();
  // rule Z6 [doc] learn.microsoft.com/graph/api/invitation-post: the invitation creates the user at once, externalUserState PendingAcceptance, userType as invited (Guest by default)
  return {
    userPrincipalName: guestUpnFor(address, domains),
    mail: storedMail(address, switches),
    userType: inputs.userType === "Member" ? "Member" : "Guest",
    // rule Z26 [guess] a new guest's displayName is userDisplayName, else the address; otherMails holds the invited address; its object id is a fresh random GUID
    displayName: inputs.userDisplayName ?? address,
    objectId: randomUUID(),
    externalUserState: "PendingAcceptance",
    otherMails: [address],
  };
}

function storedMail(address: string, switches: GraphSwitches): string | null {
  // rule Z21 [guess] Graph stores the invited address, as typed, as the new guest's mail; E2E_AZUREAD_GUEST_MAIL makes it store another (case, alias) or none
  const override = switches.guestMail[address.toLowerCase()];
  return override === undefined ? address : override;
}

/** A redeem link shaped like Entra's (the doubles never serve it). */
export function redeemUrlOf(tenantId: string, objectId: string): string {
  // rule Z23 [doc] learn.microsoft.com/graph/api/invitation-post: inviteRedeemUrl is https://login.microsoftonline.com/redeem?rd=…; the ticket inside is ours
  const ticket = Buffer.from(`${tenantId}/${objectId}`, "utf8").toString("base64url");
  return `https://login.microsoftonline.com/redeem?rd=${ticket}`;
}

// ---------------------------------------------------------------------------------------------
// The azuread provider's Invitation resource

// rule Z3 [doc] @pulumi/azuread invitation.d.ts, hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go schema: every input is ForceNew (a change replaces the invitation), user_type defaults to Guest
export const INVITATION_INPUTS = [
  "userEmailAddress",
  "redirectUrl",
  "userDisplayName",
  "userType",
  "message",
] as const;
export const INVITATION_DEFAULTS = { userType: "Guest" } as const;

/** What the provider keeps in the state for an invitation. */
export interface InvitationState {
  readonly userEmailAddress: string;
  readonly userType: string;
  /** Object id of the invited user; "" once a read found the user gone. */
  readonly userId: string;
  readonly redeemUrl: string;
}

/**
 * A create that failed after Graph sent the invitation. The provider had set the resource id
 * already, so the bridge reports a resource created but not initialized: its id and state go to
 * the Pulumi state. `id`, `properties` and `reasons` are what the Node provider server packs into
 * ErrorResourceInitFailed (@pulumi/pulumi provider/server.js grpcResponseFromError).
 */
export class InvitationInitError extends Error {
  readonly reasons: string[];
  constructor(
    message: string,
    readonly id: string,
    readonly properties: InvitationState,
  ) {
    super(message);
    this.name = "InvitationInitError";
    this.reasons = [message];
  }
}

/** Create: POST /invitations, two PATCHes of the invited user's companyName, then a read. */
export async function createInvitation(
  store: TenantStore,
  inputs: InvitationInputs,
  switches: GraphSwitches,
): Promise<{ id: string; state: InvitationState }> {
  const fault = invitationFault(inputs.userEmailAddress, switches);
  if (fault !== undefined) throw fault;
  const tenant = await store.tenant();
  const invitee = classifyInvitee(await store.invitees(inputs.userEmailAddress));
  if (invitee.kind === "internal") throw alreadyInDirectoryError(invitee.user.objectId);
  const user =
    invitee.kind === "existing" ? invitee.user : newGuest(inputs, tenant.domains, switches);
  if (invitee.kind === "new") await store.add(user);
  // rule Z7 [obs] hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go Create: the resource id is the invitation's id (d.SetId(*invite.Id), a GUID), user_id the invited user's object id
  const id = randomUUID();
  const sent: InvitationState = {
    userEmailAddress: inputs.userEmailAddress,
    userType: inputs.userType ?? "Guest",
    userId: user.objectId,
    redeemUrl: redeemUrlOf(tenant.id, user.objectId),
  };
  const lag = invitee.kind === "new" ? switches.replicationLag : 0;
  const failure = await patchCompanyName(store, user.objectId, lag, switches);
  // rule Z29 [obs] pulumi/pulumi-terraform-bridge pkg/tfbridge/provider.go initializationError: a Terraform create that fails after SetId comes back as ErrorResourceInitFailed with the partial state, so the engine keeps the resource
  if (failure !== undefined) throw new InvitationInitError(failure, id, sent);
  return { id, state: await readInvitation(store, sent) };
}

/** The provider's two PATCHes; the provider's error text when they fail, else undefined. */
async function patchCompanyName(
  store: TenantStore,
  objectId: string,
  lag: number,
  switches: GraphSwitches,
): Promise<string | undefined> {
  // rule Z8 [obs] hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go Create: PATCH companyName "TERRAFORM_UPDATE_<uuid>", then nullable.NoZero("") (null), so an existing companyName is lost; hashicorp/terraform-provider-azuread#885, PR #1075: the PATCHes need user-write rights, with User.Invite.All or Guest Inviter only the first fails with Graph's 403 Authorization_RequestDenied "Insufficient privileges to complete the operation."
  if (!switches.inviterCanWriteUsers) {
    return "Failed to patch guest user (1) after creating invitation: unexpected status 403 (403 Forbidden) with error: Authorization_RequestDenied: Insufficient privileges to complete the operation.";
  }
  // rule Z20 [obs] hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go Create: the first PATCH retries 404 while a new guest is not replicated, then fails "Timed out whilst waiting for new guest user to be replicated in Azure AD"
  if (lag > REPLICATION_RETRY_BUDGET) {
    return `Timed out whilst waiting for new guest user to be replicated in Azure AD: unexpected status 404 (404 Not Found) with error: Request_ResourceNotFound: Resource '${objectId}' does not exist or one of its queried reference-property objects are not present.`;
  }
  // The marker, then null (Z8).
  await store.patch(objectId, { companyName: `TERRAFORM_UPDATE_${randomUUID()}` });
  await store.patch(objectId, { companyName: null });
  return undefined;
}

/** Read (also the end of create): GET /users/{userId}. */
export async function readInvitation(
  store: TenantStore,
  state: InvitationState,
): Promise<InvitationState> {
  // rule Z9 [obs] hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go Read: a 404 keeps the resource with an empty user_id (the id stays); otherwise user_email_address becomes the user's mail (GetOrZero: "" for none), an input that forces replacement
  const user = await store.user(state.userId);
  if (user === undefined) return { ...state, userId: "" };
  return { ...state, userId: user.objectId, userEmailAddress: user.mail ?? "" };
}

/** Delete: DELETE /users/{userId}, then wait until it is gone. */
export async function deleteInvitation(store: TenantStore, state: InvitationState): Promise<void> {
  // rule Z10 [obs] hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go Delete, hashicorp/terraform-provider-azuread#851: deleting the invitation deletes the invited user; a user already gone fails (DeleteUser's 404, Graph's text per microsoftgraph/microsoft-graph-docs#6059)
  const user = await store.user(state.userId);
  if (user === undefined) {
    throw new Error(
      `Deleting invited User (User: "${state.userId}"): unexpected status 404 (404 Not Found) with error: Request_ResourceNotFound: Resource '${state.userId}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }
  await store.remove(user.objectId);
}

/** Graph's externalUserState of a raw world user ("" where Graph has null). */
export function externalUserStateOf(user: TenantUser): ExternalUserState | "" {
  if (user.externalUserState !== undefined) return user.externalUserState;
  // rule Z27 [guess] a guest (or #EXT# user) without a recorded state was invited and redeemed: Accepted; any other member was never invited: null
  return user.userType === "Guest" || isExternalUpn(user.userPrincipalName) ? "Accepted" : "";
}
