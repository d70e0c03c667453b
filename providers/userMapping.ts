import * as pulumi from "@pulumi/pulumi";
import type { OrganizationUser } from "../devops/client";
import { CallerRole, clientFor, rememberTokens } from "./credentials";

/** Public arguments of {@link UserMapping}. */
export interface UserMappingArgs {
  /** Organization name. */
  readonly organization: pulumi.Input<string>;
  /** The organization user's id (storage key): stable, unlike its descriptor, which a mapping changes. */
  readonly userId: pulumi.Input<string>;
  /** Address of the Entra identity the user must be bound to. */
  readonly principalName: pulumi.Input<string>;
  /** Entra object id of that identity, when known: mapping by id is unambiguous. */
  readonly originId?: pulumi.Input<string>;
  /** Whose credential maps (a Project Collection Administrator); default `owner`. */
  readonly role?: pulumi.Input<CallerRole>;
}

interface Inputs {
  organization: string;
  userId: string;
  principalName: string;
  originId?: string;
  role: CallerRole;
}

interface Outputs extends Inputs {
  /** What the organization user is bound to now (at create, or at the last refresh). */
  boundPrincipalName: string;
  boundOrigin: string;
  boundOriginId?: string;
}

/** True when the organization user answers to the target identity already. */
function isBound(user: OrganizationUser, inputs: Inputs): boolean {
  if (user.origin !== "aad") return false;
  if (inputs.originId) return user.originId?.toLowerCase() === inputs.originId.toLowerCase();
  return user.principalName.toLowerCase() === inputs.principalName;
}

function outputsOf(inputs: Inputs, user: OrganizationUser): Outputs {
  return {
    ...inputs,
    boundPrincipalName: user.principalName,
    boundOrigin: user.origin,
    ...(user.originId ? { boundOriginId: user.originId } : {}),
  };
}

/**
 * Maps one organization user to an Entra identity after the connection (Graph user update, DOMAIN
 * §2). `read` reports the identity the user is bound to now, so `pulumi refresh` shows a mapping
 * changed elsewhere. A mapping is not undone by leaving the program: delete does nothing.
 */
export const provider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    rememberTokens(req.config);
  },

  async check(_olds, news) {
    const principalName = String(news.principalName ?? "")
      .trim()
      .toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(principalName)) {
      return {
        failures: [{ property: "principalName", reason: `"${principalName}" is not an address` }],
      };
    }
    if (typeof news.userId !== "string" || news.userId === "") {
      return {
        failures: [{ property: "userId", reason: "the organization user's id is required" }],
      };
    }
    return {
      inputs: {
        ...news,
        principalName,
        ...(news.originId ? { originId: String(news.originId).toLowerCase() } : {}),
        role: news.role === "temporaryOwner" ? "temporaryOwner" : "owner",
      },
    };
  },

  async diff(_id, olds: Outputs, news: Inputs) {
    const replaces = (["organization", "userId"] as const).filter((k) => olds[k] !== news[k]);
    const changes =
      replaces.length > 0 ||
      olds.principalName !== news.principalName ||
      (olds.originId ?? "") !== (news.originId ?? "") ||
      olds.role !== news.role;
    return { changes, replaces };
  },

  async create(inputs: Inputs) {
    return { id: `${inputs.organization}/${inputs.userId}`, outs: await map(inputs) };
  },

  async read(id, props: Outputs) {
    const user = await clientFor(props.organization, props.role).getUser(props.userId);
    if (user === undefined) return {};
    const inputs: Inputs = {
      organization: props.organization,
      userId: props.userId,
      principalName: props.principalName,
      ...(props.originId ? { originId: props.originId } : {}),
      role: props.role,
    };
    return { id, props: outputsOf(inputs, user), inputs };
  },

  async update(_id, _olds: Outputs, news: Inputs) {
    return { outs: await map(news) };
  },

  async delete() {
    // Deliberately nothing: a mapping is not undone by leaving the program (unmapping would
    // disconnect the user again), and no API offers an unmap.
  },
};

/** Binds the user unless it already is (a re-run converges without a second call). */
async function map(inputs: Inputs): Promise<Outputs> {
  const client = clientFor(inputs.organization, inputs.role);
  const user = await client.getUser(inputs.userId);
  if (user === undefined) {
    throw new Error(
      `The organization ${inputs.organization} has no user ${inputs.userId} to map to ${inputs.principalName}.`,
    );
  }
  if (isBound(user, inputs)) return outputsOf(inputs, user);
  if (!user.descriptor)
    throw new Error(`The organization user ${user.principalName} has no descriptor to map.`);
  await client.mapUser(user.descriptor, {
    principalName: inputs.principalName,
    ...(inputs.originId ? { originId: inputs.originId } : {}),
  });
  const after = await client.getUser(inputs.userId);
  if (after === undefined || !isBound(after, inputs)) {
    throw new Error(
      `${user.principalName} was mapped to ${inputs.principalName}, but the organization reports it bound to ${after?.principalName ?? "nothing"} (origin ${after?.origin ?? "?"}).`,
    );
  }
  return outputsOf(inputs, after);
}

/** An organization user bound to an Entra identity; leaving the program keeps the binding. */
export class UserMapping extends pulumi.dynamic.Resource {
  declare public readonly boundPrincipalName: pulumi.Output<string>;
  declare public readonly boundOrigin: pulumi.Output<string>;

  constructor(name: string, args: UserMappingArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        role: "owner",
        ...args,
        boundPrincipalName: undefined,
        boundOrigin: undefined,
        boundOriginId: undefined,
      },
      opts,
      "devops-entra-connect",
      "UserMapping",
    );
  }
}
