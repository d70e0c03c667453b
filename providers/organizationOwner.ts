import { organizationUrl } from "../devops/hosts";
import * as pulumi from "@pulumi/pulumi";
import type { DevOpsClient } from "../devops/client";
import { CallerRole, clientFor } from "./credentials";
import {
  MODULE,
  PATIENCE,
  Patience,
  applied,
  checkAddress,
  checkRole,
  configure,
  sameOrganization,
  waitFor,
  readResult,
} from "./shared";

/** Public arguments of {@link OrganizationOwner}. */
export interface OrganizationOwnerArgs {
  /** Organization name. */
  readonly organization: pulumi.Input<string>;
  /** Principal name of the user who becomes owner; must be in the organization and have signed in once. */
  readonly ownerPrincipalName: pulumi.Input<string>;
  /** Whose credential changes the owner (a Project Collection Administrator); default `owner`. */
  readonly role?: pulumi.Input<CallerRole>;
  /** Whose credential hands ownership back on delete; default `owner`. */
  readonly handBackRole?: pulumi.Input<CallerRole>;
  /**
   * Principal name of the owner to hand back to, used only when the new owner already owns the
   * organization at create (an earlier run changed it, then failed before saving the state).
   */
  readonly handBackTo?: pulumi.Input<string>;
  /** Reads of the owner after a change until it shows; default 10, 3 s apart. */
  readonly verifyAttempts?: pulumi.Input<number>;
  readonly verifyIntervalMs?: pulumi.Input<number>;
}

interface Inputs {
  organization: string;
  ownerPrincipalName: string;
  role: CallerRole;
  handBackRole: CallerRole;
  handBackTo?: string;
  verifyAttempts?: number;
  verifyIntervalMs?: number;
}

interface Outputs extends Inputs {
  /** User id of the owner this resource set. */
  ownerId: string;
  /** User id of the owner before this resource: who gets ownership back on delete. */
  previousOwnerId: string;
}

/** How long an owner change may take to show: the resource's settings, else the default. */
function patienceOf(inputs: Inputs): Patience {
  return {
    attempts: inputs.verifyAttempts ?? PATIENCE.attempts,
    intervalMs: inputs.verifyIntervalMs ?? PATIENCE.intervalMs,
  };
}

/** The new owner's user id, or a clear error when the user cannot be owner. */
async function ownerIdOf(client: DevOpsClient, inputs: Inputs): Promise<string> {
  const user = await client.findUser(inputs.ownerPrincipalName);
  if (user === undefined) {
    throw new Error(
      `${inputs.ownerPrincipalName} is not a user of the organization ${inputs.organization}; add it (with a Basic license) before making it owner.`,
    );
  }
  if (user.lastAccessedDate === undefined) {
    throw new Error(
      `${inputs.ownerPrincipalName} has never signed in to ${organizationUrl(inputs.organization)}; a new owner must have signed in once. Sign in with that account, then run again.`,
    );
  }
  return user.id;
}

/**
 * Changes the owner to `ownerId` unless it is already, then reads the owner back until it shows:
 * an owner change that answers success and changes nothing must not pass for a hand-back.
 */
async function makeOwner(
  client: DevOpsClient,
  inputs: Inputs,
  ownerId: string,
  what: string,
): Promise<void> {
  if ((await client.getOrganization()).ownerId !== ownerId) {
    await applied(
      () => client.changeOwner(ownerId),
      async () => (await client.getOrganization()).ownerId === ownerId,
    );
  }
  const seen = await waitFor(
    () => client.getOrganization(),
    (o) => o.ownerId === ownerId,
    patienceOf(inputs),
  );
  if (!seen.done) {
    throw new Error(
      `${what}: the organization ${inputs.organization} still reports owner ${seen.value.ownerId} instead of ${ownerId} after the change; check Organization settings → Overview, change the owner there if needed, then run again.`,
    );
  }
}

/**
 * The organization's owner, set to a user while the resource exists (undocumented endpoint, see
 * docs/undocumented-endpoints.md#change-owner). It records the owner it replaced; deleting the
 * resource hands ownership back to that owner and verifies it, so removing it from the program
 * *is* the hand-back.
 */
export const provider: pulumi.dynamic.ResourceProvider<Inputs, Outputs> = {
  configure,

  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const raw = news as unknown as Record<string, unknown>;
    const ownerPrincipalName = checkAddress(raw, "ownerPrincipalName", failures);
    const role = checkRole(raw, "role", failures);
    const handBackRole = checkRole(raw, "handBackRole", failures);
    if (failures.length > 0) return { failures };
    return {
      inputs: {
        ...news,
        ownerPrincipalName,
        role,
        handBackRole,
        ...(raw.handBackTo ? { handBackTo: String(raw.handBackTo).trim().toLowerCase() } : {}),
        ...(typeof raw.verifyAttempts === "number" ? { verifyAttempts: raw.verifyAttempts } : {}),
        ...(typeof raw.verifyIntervalMs === "number"
          ? { verifyIntervalMs: raw.verifyIntervalMs }
          : {}),
      },
    };
  },

  async diff(_id, olds, news) {
    const replaces = sameOrganization(olds.organization, news.organization) ? [] : ["organization"];
    const changes =
      replaces.length > 0 ||
      olds.ownerPrincipalName !== news.ownerPrincipalName ||
      olds.role !== news.role ||
      olds.handBackRole !== news.handBackRole;
    return { changes, replaces };
  },

  async create(inputs) {
    const client = clientFor(inputs.organization, inputs.role);
    const before = await client.getOrganization();
    const ownerId = await ownerIdOf(client, inputs);
    // Who gets ownership back. Never the new owner itself: when it already owns the organization,
    // an interrupted earlier run moved it, and the owner before that is the one configured.
    let previousOwnerId = before.ownerId;
    if (before.ownerId === ownerId) {
      const original = inputs.handBackTo ? await client.findUser(inputs.handBackTo) : undefined;
      if (original === undefined || original.id === ownerId) {
        throw new Error(
          `${inputs.ownerPrincipalName} already owns the organization ${inputs.organization} and the owner to hand back to is unknown` +
            `${inputs.handBackTo ? ` (${inputs.handBackTo} is not another user of the organization)` : ""}; give ownership back in the portal, then run again.`,
        );
      }
      previousOwnerId = original.id;
    }
    await makeOwner(client, inputs, ownerId, "the owner change");
    const outs: Outputs = { ...inputs, ownerId, previousOwnerId };
    return { id: `${inputs.organization}/owner`, outs };
  },

  async read(id, props) {
    const p = props as Outputs;
    const current = await clientFor(p.organization, p.role).getOrganization();
    const inputs: Inputs = {
      organization: p.organization,
      ownerPrincipalName: p.ownerPrincipalName,
      role: p.role,
      handBackRole: p.handBackRole,
      ...(p.handBackTo ? { handBackTo: p.handBackTo } : {}),
      ...(p.verifyAttempts !== undefined ? { verifyAttempts: p.verifyAttempts } : {}),
      ...(p.verifyIntervalMs !== undefined ? { verifyIntervalMs: p.verifyIntervalMs } : {}),
    };
    // A different owner (changed in the portal) shows as drift on `pulumi refresh`.
    return readResult(id, { ...p, ownerId: current.ownerId }, inputs);
  },

  async update(_id, olds, news) {
    const client = clientFor(news.organization, news.role);
    const ownerId =
      olds.ownerPrincipalName === news.ownerPrincipalName
        ? olds.ownerId
        : await ownerIdOf(client, news);
    if (ownerId !== olds.ownerId) await makeOwner(client, news, ownerId, "the owner change");
    // The owner to hand back to stays the one found before the first change.
    return { outs: { ...news, ownerId, previousOwnerId: olds.previousOwnerId } };
  },

  async delete(_id, props) {
    const client = clientFor(props.organization, props.handBackRole);
    await makeOwner(client, props, props.previousOwnerId, "handing ownership back");
  },
};

/** Ownership of the organization handed to a user; deleting the resource hands it back. */
export class OrganizationOwner extends pulumi.dynamic.Resource {
  declare public readonly ownerId: pulumi.Output<string>;
  declare public readonly previousOwnerId: pulumi.Output<string>;

  constructor(name: string, args: OrganizationOwnerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        role: "owner",
        handBackRole: "owner",
        ...args,
        ownerId: undefined,
        previousOwnerId: undefined,
      },
      opts,
      MODULE,
      "OrganizationOwner",
    );
  }
}
