import * as pulumi from "@pulumi/pulumi";
import { CallerRole, clientFor, rememberTokens } from "./credentials";

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
}

interface Inputs {
  organization: string;
  ownerPrincipalName: string;
  role: CallerRole;
  handBackRole: CallerRole;
  handBackTo?: string;
}

interface Outputs extends Inputs {
  /** User id of the owner this resource set. */
  ownerId: string;
  /** User id of the owner before this resource: who gets ownership back on delete. */
  previousOwnerId: string;
}

/** The new owner's user id, or a clear error when the user cannot be owner. */
async function ownerIdOf(inputs: Inputs): Promise<string> {
  const user = await clientFor(inputs.organization, inputs.role).findUser(
    inputs.ownerPrincipalName,
  );
  if (user === undefined) {
    throw new Error(
      `${inputs.ownerPrincipalName} is not a user of the organization ${inputs.organization}; add it (with a Basic license) before making it owner.`,
    );
  }
  if (user.lastAccessedDate === undefined) {
    throw new Error(
      `${inputs.ownerPrincipalName} has never signed in to https://dev.azure.com/${inputs.organization}; a new owner must have signed in once. Sign in with that account, then run again.`,
    );
  }
  return user.id;
}

/**
 * The organization's owner, set to a user while the resource exists (DOMAIN §2 "Change owner",
 * undocumented). It records the owner it replaced; deleting the resource hands ownership back to
 * that owner, so removing it from the program *is* the hand-back.
 */
export const provider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    rememberTokens(req.config);
  },

  async check(_olds, news) {
    const owner = String(news.ownerPrincipalName ?? "").trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(owner)) {
      return {
        failures: [
          { property: "ownerPrincipalName", reason: `"${owner}" is not a principal name` },
        ],
      };
    }
    return {
      inputs: {
        ...news,
        ownerPrincipalName: owner.toLowerCase(),
        role: news.role === "temporaryOwner" ? "temporaryOwner" : "owner",
        handBackRole: news.handBackRole === "temporaryOwner" ? "temporaryOwner" : "owner",
        ...(news.handBackTo ? { handBackTo: String(news.handBackTo).trim().toLowerCase() } : {}),
      },
    };
  },

  async diff(_id, olds: Outputs, news: Inputs) {
    const replaces = olds.organization === news.organization ? [] : ["organization"];
    const changes =
      replaces.length > 0 ||
      olds.ownerPrincipalName !== news.ownerPrincipalName ||
      olds.role !== news.role ||
      olds.handBackRole !== news.handBackRole;
    return { changes, replaces };
  },

  async create(inputs: Inputs) {
    const client = clientFor(inputs.organization, inputs.role);
    const before = await client.getOrganization();
    const ownerId = await ownerIdOf(inputs);
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
    } else {
      await client.changeOwner(ownerId);
    }
    const after = await client.getOrganization();
    if (after.ownerId !== ownerId) {
      throw new Error(
        `The organization ${inputs.organization} still reports owner ${after.ownerId} after the change to ${ownerId}.`,
      );
    }
    const outs: Outputs = { ...inputs, ownerId, previousOwnerId };
    return { id: `${inputs.organization}/owner`, outs };
  },

  async read(id, props: Outputs) {
    const current = await clientFor(props.organization, props.role).getOrganization();
    const inputs: Inputs = {
      organization: props.organization,
      ownerPrincipalName: props.ownerPrincipalName,
      role: props.role,
      handBackRole: props.handBackRole,
      ...(props.handBackTo ? { handBackTo: props.handBackTo } : {}),
    };
    // A different owner (changed in the portal) shows as drift on `pulumi refresh`.
    return { id, props: { ...props, ownerId: current.ownerId }, inputs };
  },

  async update(_id, olds: Outputs, news: Inputs) {
    const ownerId =
      olds.ownerPrincipalName === news.ownerPrincipalName ? olds.ownerId : await ownerIdOf(news);
    if (ownerId !== olds.ownerId)
      await clientFor(news.organization, news.role).changeOwner(ownerId);
    // The owner to hand back to stays the one found before the first change.
    return { outs: { ...news, ownerId, previousOwnerId: olds.previousOwnerId } };
  },

  async delete(_id, props: Outputs) {
    const client = clientFor(props.organization, props.handBackRole);
    const current = await client.getOrganization();
    if (current.ownerId !== props.previousOwnerId) await client.changeOwner(props.previousOwnerId);
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
      "devops-entra-connect",
      "OrganizationOwner",
    );
  }
}
