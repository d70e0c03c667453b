import * as pulumi from "@pulumi/pulumi";
import { type DevOpsClient, isCredentialRefusal, isDevOpsApiError } from "../devops/client";
import { usersDigest } from "../devops/digest";
import { isGuid } from "../devops/guid";
import { ZERO_TENANT } from "../devops/organizationEndpoints";
import { CallerRole, clientFor } from "./credentials";
import {
  MODULE,
  applied,
  checkRole,
  configure,
  sameOrganization,
  waitFor,
  readResult,
} from "./shared";

/**
 * What the plan saw, checked again right before the connect call: the plan is made minutes
 * before the call at scale (after every invitation), and a user who joins meanwhile has no plan.
 */
export interface ConnectPreconditions {
  /** The digest of the organization's user ids the plan classified (`devops/digest.ts`). */
  readonly usersDigest: string;
  /** Who must own the organization when it connects (the temporary owner's id on that path). */
  readonly ownerId: string;
  /** Whether TFVC was accepted; else every project must still say TFVC is disabled. */
  readonly allowTfvc: boolean;
}

/** Public arguments of {@link TenantConnection}. */
export interface TenantConnectionArgs {
  /** Organization name. */
  readonly organization: pulumi.Input<string>;
  /** Target tenant GUID. */
  readonly tenantId: pulumi.Input<string>;
  /** Whose credential performs the connection: the organization owner at that moment; default `owner`. */
  readonly role?: pulumi.Input<CallerRole>;
  /** Delete disconnects (sends the all-zero tenant) instead of leaving the organization connected; default false. */
  readonly allowDisconnect?: pulumi.Input<boolean>;
  /** Checked again right before connecting; a connection without them (an older state) is not re-made. */
  readonly preconditions?: pulumi.Input<ConnectPreconditions>;
  /** Checks after connecting that the organization reports the tenant; default 10 tries, 3 s apart. */
  readonly verifyAttempts?: pulumi.Input<number>;
  readonly verifyIntervalMs?: pulumi.Input<number>;
}

interface Inputs {
  organization: string;
  tenantId: string;
  role: CallerRole;
  allowDisconnect: boolean;
  preconditions?: ConnectPreconditions;
  verifyAttempts: number;
  verifyIntervalMs: number;
}

interface Outputs extends Inputs {
  /** When the connection was verified (ISO time). */
  verifiedAt: string;
  /**
   * The tenant this resource connected the organization to. `tenantId` follows the organization
   * on refresh (drift shows there); this stays the fact of the creation. Absent in older states.
   */
  connectedTenantId?: string;
}

/** What changed since the plan, or nothing: each entry is a reason not to connect now. */
async function changedSincePlan(client: DevOpsClient, p: ConnectPreconditions): Promise<string[]> {
  const [listing, organization, projects] = await Promise.all([
    client.listUsers(),
    client.getOrganization(),
    p.allowTfvc ? Promise.resolve([]) : client.listProjects(),
  ]);
  const reasons = listing.problems.map((problem) => `the user listing is incomplete: ${problem}`);
  if (usersDigest(listing.users) !== p.usersDigest) {
    reasons.push("the organization's users changed since the plan (someone joined or left)");
  }
  if (organization.ownerId !== p.ownerId) {
    reasons.push(`the owner is now ${organization.ownerId}, not the ${p.ownerId} the plan expects`);
  }
  const tfvc = projects.filter((project) => project.versionControl !== "git");
  if (tfvc.length > 0) {
    reasons.push(`TFVC is not ruled out for ${tfvc.map((project) => project.name).join(", ")}`);
  }
  return reasons;
}

/**
 * The organization's connection to an Entra tenant (undocumented endpoint, see
 * docs/undocumented-endpoints.md#connect-and-disconnect). Create checks again what the plan saw,
 * connects, and verifies: the organization endpoint must report the tenant (a source that always
 * exists), and the `X-VSS-ResourceTenant` header, when present, must agree. `read` reports the
 * tenant the organization is really on, so `pulumi refresh` shows a change made in the portal;
 * delete leaves the organization connected unless `allowDisconnect` is set.
 */
export const provider: pulumi.dynamic.ResourceProvider<Inputs, Outputs> = {
  configure,

  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const raw = news as unknown as Record<string, unknown>;
    const tenantId = String(raw.tenantId ?? "")
      .trim()
      .toLowerCase();
    if (!isGuid(tenantId) || tenantId === ZERO_TENANT) {
      failures.push({ property: "tenantId", reason: "tenantId must be a tenant GUID" });
    }
    const role = checkRole(raw, "role", failures);
    if (failures.length > 0) return { failures };
    return {
      inputs: {
        ...news,
        tenantId,
        role,
        allowDisconnect: raw.allowDisconnect === true,
        verifyAttempts: Number(raw.verifyAttempts ?? 10),
        verifyIntervalMs: Number(raw.verifyIntervalMs ?? 3000),
      },
    };
  },

  async diff(_id, olds, news) {
    // A different tenant is a replacement. Refusing it is the program's job (it sees the live
    // tenant before registering anything): the engine also calls diff during `pulumi refresh`,
    // where throwing would make the drift impossible to record. The preconditions and the
    // verification settings only matter to a create.
    const replaces = [
      ...(sameOrganization(olds.organization, news.organization) ? [] : ["organization"]),
      ...(olds.tenantId !== news.tenantId ? ["tenantId"] : []),
    ];
    const changes =
      replaces.length > 0 ||
      olds.allowDisconnect !== news.allowDisconnect ||
      olds.role !== news.role;
    // An organization is on one tenant at a time: disconnect before connecting to the new one.
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const client = clientFor(inputs.organization, inputs.role);
    const current = (await client.getOrganization()).tenantId;
    if (current !== null && current !== inputs.tenantId) {
      throw new Error(
        `The organization ${inputs.organization} is connected to another tenant (${current}); refusing to connect it to ${inputs.tenantId}.`,
      );
    }
    // Already on the target (a previous run connected, then failed before saving): adopt it.
    if (current === null) {
      const changed = inputs.preconditions
        ? await changedSincePlan(client, inputs.preconditions)
        : [];
      if (changed.length > 0) {
        throw new Error(
          `Not connecting the organization ${inputs.organization}: ${changed.join("; ")}. Nothing was connected; run \`pulumi preview\` again to plan with what is there now.`,
        );
      }
      await applied(
        () => client.setTenant(inputs.tenantId),
        async () => (await client.getOrganization()).tenantId === inputs.tenantId,
      ).catch((err: unknown) => {
        throw refusedLink(err, inputs);
      });
    }
    await verifyConnection(client, inputs);
    const outs: Outputs = {
      ...inputs,
      verifiedAt: new Date().toISOString(),
      connectedTenantId: inputs.tenantId,
    };
    return { id: `${inputs.organization}/tenant`, outs };
  },

  async read(id, props) {
    const p = props as Outputs;
    const tenantId =
      (await clientFor(p.organization, p.role).getOrganization()).tenantId ?? ZERO_TENANT;
    const { verifiedAt, connectedTenantId, ...inputs } = p;
    void [verifiedAt, connectedTenantId];
    return readResult(id, { ...p, tenantId }, inputs);
  },

  async update(_id, olds, news) {
    return {
      outs: {
        ...news,
        verifiedAt: olds.verifiedAt,
        ...(olds.connectedTenantId ? { connectedTenantId: olds.connectedTenantId } : {}),
      },
    };
  },

  async delete(_id, props) {
    if (!props.allowDisconnect) return; // leaving the program never disconnects by accident
    const client = clientFor(props.organization, props.role);
    if ((await client.getOrganization()).tenantId !== null) await client.setTenant(ZERO_TENANT);
  },
};

/**
 * The organization endpoint must report the tenant (Entra changes can take a while to show); the
 * resource-tenant header is a second opinion that may be absent, but must not disagree.
 */
async function verifyConnection(client: DevOpsClient, inputs: Inputs): Promise<void> {
  const seen = await waitFor(
    async () => {
      const [collection, header] = await Promise.all([
        client.getOrganization(),
        client.getResourceTenant(),
      ]);
      return { collection: collection.tenantId, header };
    },
    (r) =>
      r.collection === inputs.tenantId && (r.header === undefined || r.header === inputs.tenantId),
    { attempts: inputs.verifyAttempts, intervalMs: inputs.verifyIntervalMs },
  ).catch((err: unknown) => {
    // The connection can end the Microsoft account's tokens (docs/procedure.md#after).
    if (!isCredentialRefusal(err)) throw err;
    throw new Error(
      `The organization ${inputs.organization} was sent to tenant ${inputs.tenantId}, but reading it back was refused: ${(err as Error).message}. Once connected, a personal access token issued to a Microsoft account can stop working: create new tokens signed in with the Entra identities, set them, and run \`pulumi up\` again; it adopts the connection.`,
    );
  });
  if (!seen.done) {
    const { collection, header } = seen.value;
    throw new Error(
      `The organization ${inputs.organization} was connected to ${inputs.tenantId}, but it still reports ${collection ?? "no tenant"} (header: ${header === undefined ? "absent" : (header ?? "no tenant")}); check Organization settings → Microsoft Entra, then run again.`,
    );
  }
}

/**
 * Azure DevOps refuses the link (403) while it sees the connecting account as anything but an
 * active member; it sees Entra changes up to an hour late (docs/entra.md#eventual-consistency).
 */
function refusedLink(err: unknown, inputs: Inputs): unknown {
  if (!isDevOpsApiError(err) || err.status !== 403) return err;
  return new Error(
    `${err.message}. Nothing was connected. Azure DevOps can take up to an hour to see a change made in Entra: if the connecting account was just invited, redeemed or made a member, wait, then run \`pulumi up\` again in the ${inputs.role === "temporaryOwner" ? "connect phase (the temporary owner keeps the organization meanwhile)" : "connect phase"}.`,
  );
}

/** The organization connected to an Entra tenant. Protect it: deleting it can disconnect everyone. */
export class TenantConnection extends pulumi.dynamic.Resource {
  declare public readonly tenantId: pulumi.Output<string>;
  declare public readonly verifiedAt: pulumi.Output<string>;

  constructor(name: string, args: TenantConnectionArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        role: "owner",
        allowDisconnect: false,
        verifyAttempts: 10,
        verifyIntervalMs: 3000,
        ...args,
        verifiedAt: undefined,
      },
      opts,
      MODULE,
      "TenantConnection",
    );
  }
}
