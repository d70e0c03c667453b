import * as pulumi from "@pulumi/pulumi";
import type { DevOpsClient, UserEntitlement } from "../devops/client";
import { CallerRole, clientFor } from "./credentials";
import {
  MODULE,
  PATIENCE,
  applied,
  checkAddress,
  checkRole,
  configure,
  sameOrganization,
  waitFor,
  readResult,
} from "./shared";

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
  /** The user's principal name before the mapping, recorded for the stack's ledger. */
  readonly mappedFrom?: pulumi.Input<string>;
  /** Whose credential maps (a Project Collection Administrator); default `owner`. */
  readonly role?: pulumi.Input<CallerRole>;
  /** Reads of the user after the mapping until it shows; default 10, 3 s apart. */
  readonly verifyAttempts?: pulumi.Input<number>;
  readonly verifyIntervalMs?: pulumi.Input<number>;
}

interface Inputs {
  organization: string;
  userId: string;
  principalName: string;
  originId?: string;
  mappedFrom?: string;
  role: CallerRole;
  verifyAttempts?: number;
  verifyIntervalMs?: number;
}

interface Outputs extends Inputs {
  /** What the organization user is bound to now (at create, or at the last refresh). */
  boundPrincipalName: string;
  boundOrigin: string;
  boundOriginId?: string;
}

/** True when the organization user answers to the target identity already. */
function isBound(user: UserEntitlement, inputs: Inputs): boolean {
  if (user.origin !== "aad") return false;
  if (inputs.originId) return user.originId?.toLowerCase() === inputs.originId.toLowerCase();
  return user.principalName.toLowerCase() === inputs.principalName;
}

function outputsOf(inputs: Inputs, user: UserEntitlement): Outputs {
  return {
    ...inputs,
    boundPrincipalName: user.principalName,
    boundOrigin: user.origin,
    ...(user.originId ? { boundOriginId: user.originId } : {}),
  };
}

/**
 * Maps one organization user to an Entra identity after the connection (Graph Users - Update, see
 * docs/azure-devops-apis.md#map-user). `read` reports the identity the user is bound to now, so
 * `pulumi refresh` shows a mapping changed elsewhere. A mapping is not undone by leaving the
 * program: delete does nothing.
 */
export const provider: pulumi.dynamic.ResourceProvider<Inputs, Outputs> = {
  configure,

  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const raw = news as unknown as Record<string, unknown>;
    const principalName = checkAddress(raw, "principalName", failures);
    if (typeof raw.userId !== "string" || raw.userId === "") {
      failures.push({ property: "userId", reason: "the organization user's id is required" });
    }
    const role = checkRole(raw, "role", failures);
    if (failures.length > 0) return { failures };
    return {
      inputs: {
        ...news,
        principalName,
        ...(raw.originId ? { originId: String(raw.originId).toLowerCase() } : {}),
        role,
      },
    };
  },

  async diff(_id, olds, news) {
    const replaces = [
      ...(sameOrganization(olds.organization, news.organization) ? [] : ["organization"]),
      ...(olds.userId !== news.userId ? ["userId"] : []),
    ];
    const changes =
      replaces.length > 0 ||
      olds.principalName !== news.principalName ||
      (olds.originId ?? "") !== (news.originId ?? "") ||
      olds.role !== news.role;
    return { changes, replaces };
  },

  async create(inputs) {
    return { id: `${inputs.organization}/${inputs.userId}`, outs: await map(inputs) };
  },

  async read(id, props) {
    const p = props as Outputs;
    const user = await clientFor(p.organization, p.role).getUser(p.userId);
    if (user === undefined) return {};
    const { boundPrincipalName, boundOrigin, boundOriginId, ...inputs } = p;
    void [boundPrincipalName, boundOrigin, boundOriginId];
    return readResult(id, outputsOf(inputs, user), inputs);
  },

  async update(_id, _olds, news) {
    return { outs: await map(news) };
  },

  async delete() {
    // Deliberately nothing: a mapping is not undone by leaving the program (unmapping would
    // disconnect the user again), and no API offers an unmap.
  },
};

/**
 * Another organization user who holds the target identity: mapping onto it would make Azure
 * DevOps remove that user's entitlement and group memberships to hand the identity over.
 */
async function holderOf(
  client: DevOpsClient,
  inputs: Inputs,
): Promise<UserEntitlement | undefined> {
  const holder = await client.findUser(inputs.principalName);
  return holder !== undefined && holder.id !== inputs.userId ? holder : undefined;
}

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
  if (!user.descriptor) {
    throw new Error(`The organization user ${user.principalName} has no descriptor to map.`);
  }
  const holder = await holderOf(client, inputs);
  if (holder !== undefined) {
    throw new Error(
      `Not mapping ${user.principalName} to ${inputs.principalName}: the organization user ${holder.principalName} (${holder.id}) holds that identity, and Azure DevOps would remove that user's access to hand it over. Nothing was changed.`,
    );
  }
  const descriptor = user.descriptor;
  await applied(
    () =>
      client.mapUser(descriptor, {
        principalName: inputs.principalName,
        ...(inputs.originId ? { originId: inputs.originId } : {}),
      }),
    // A retried mapping whose first answer was lost meets "cannot transfer identity to itself".
    async () => {
      const now = await client.getUser(inputs.userId);
      return now !== undefined && isBound(now, inputs);
    },
  );
  const seen = await waitFor(
    () => client.getUser(inputs.userId),
    (after) => after !== undefined && isBound(after, inputs),
    {
      attempts: inputs.verifyAttempts ?? PATIENCE.attempts,
      intervalMs: inputs.verifyIntervalMs ?? PATIENCE.intervalMs,
    },
  );
  if (!seen.done || seen.value === undefined) {
    throw new Error(
      `${user.principalName} was mapped to ${inputs.principalName}, but the organization reports it bound to ${seen.value?.principalName ?? "nothing"} (origin ${seen.value?.origin ?? "?"}); check Organization settings → Users, then run again.`,
    );
  }
  return outputsOf(inputs, seen.value);
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
      MODULE,
      "UserMapping",
    );
  }
}
