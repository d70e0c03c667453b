import * as pulumi from "@pulumi/pulumi";
import type { UserEntitlement } from "../devops/client";
import { CallerRole, clientFor } from "./credentials";
import { MODULE, checkAddress, checkRole, configure, sameOrganization, readResult } from "./shared";

/** Public arguments of {@link OrganizationUser}. */
export interface OrganizationUserArgs {
  /** Organization name. */
  readonly organization: pulumi.Input<string>;
  /** Principal name (email) of the user to add. */
  readonly principalName: pulumi.Input<string>;
  /** Account license; default `express` (Basic). */
  readonly license?: pulumi.Input<"express" | "stakeholder" | "advanced">;
  /** Whose credential adds and removes the user; default `owner`. */
  readonly role?: pulumi.Input<CallerRole>;
}

/** Resolved inputs, as the provider sees them. */
interface Inputs {
  organization: string;
  principalName: string;
  license: string;
  role: CallerRole;
}

/**
 * What the provider records in the state: what identifies the user, and the facts of its creation
 * that later runs rely on. Sign-in state, status and origin change as people sign in and as the
 * connection binds users: recording them would make every `pulumi refresh` report drift.
 */
interface Outputs extends Inputs {
  userId: string;
  /**
   * True when this resource added the user (or adopted the one its own lost request added). An
   * adopted pre-existing user is never recorded: create refuses it. Absent in the state of older
   * releases, whose users are then never removed by this resource.
   */
  addedByThisStack?: boolean;
  /** The organization's owner (user id) when the user was added: who gets ownership back. */
  ownerBefore?: string;
}

const LICENSES = ["express", "stakeholder", "advanced"];

/**
 * A clock difference the creation-time check tolerates: a user created before this create call
 * began (minus this) was not created by it.
 */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * A user this create call may adopt after its own add failed: one the organization created during
 * the call (a retried add whose first response was lost). Anyone older is someone else.
 */
function addedDuringThisCall(user: UserEntitlement, startedAt: number): boolean {
  const created = user.dateCreated ? Date.parse(user.dateCreated) : NaN;
  return Number.isFinite(created) && created >= startedAt - CLOCK_SKEW_MS;
}

/**
 * A user of the organization with a license (User Entitlements, docs/azure-devops-apis.md). Gone on
 * read means gone from the state; delete removes only a user this resource added, and never the
 * organization's owner.
 */
export const provider: pulumi.dynamic.ResourceProvider<Inputs, Outputs> = {
  configure,

  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const raw = news as unknown as Record<string, unknown>;
    const principalName = checkAddress(raw, "principalName", failures);
    const license = String(raw.license ?? "express");
    if (!LICENSES.includes(license)) {
      failures.push({
        property: "license",
        reason: `license must be one of ${LICENSES.join(", ")}`,
      });
    }
    const role = checkRole(raw, "role", failures);
    const inputs: Inputs = { organization: String(raw.organization), principalName, license, role };
    return failures.length > 0 ? { failures } : { inputs: { ...news, ...inputs } };
  },

  async diff(_id, olds, news) {
    // The entitlement is identified by organization and principal name; a new license is a new
    // entitlement here (the add call sets it). The acting role does not change the user.
    const replaces = [
      ...(sameOrganization(olds.organization, news.organization) ? [] : ["organization"]),
      ...(["principalName", "license"] as const).filter(
        (k) => String(olds[k]).toLowerCase() !== String(news[k]).toLowerCase(),
      ),
    ];
    return {
      changes: replaces.length > 0 || olds.role !== news.role,
      replaces,
      deleteBeforeReplace: true,
    };
  },

  async create(inputs) {
    const client = clientFor(inputs.organization, inputs.role);
    const startedAt = Date.now();
    const ownerBefore = (await client.getOrganization()).ownerId;
    let user: UserEntitlement | undefined;
    try {
      user = await client.addUser(inputs.principalName, inputs.license);
    } catch (err) {
      // The add may have been applied and its answer lost; adopt only what this call created.
      const found = await client.findUser(inputs.principalName);
      if (found === undefined) throw err;
      if (!addedDuringThisCall(found, startedAt)) {
        throw new Error(
          `${inputs.principalName} is already a user of the organization ${inputs.organization} (added ${found.dateCreated ?? "earlier"}), not one this stack added; it is not adopted, since this resource would remove it. Configure a new account, or, if this stack added it in a run that was cut off, remove it from the organization (Organization settings → Users) and run again.`,
        );
      }
      user = found;
    }
    const outs: Outputs = { ...inputs, userId: user.id, addedByThisStack: true, ownerBefore };
    return { id: user.id, outs };
  },

  async read(id, props) {
    const p = props as Outputs;
    const user = await clientFor(p.organization, p.role).getUser(id);
    if (user === undefined) return {};
    const inputs: Inputs = {
      organization: p.organization,
      principalName: p.principalName,
      license: user.license,
      role: p.role,
    };
    return readResult(id, { ...p, license: user.license, userId: user.id }, inputs);
  },

  async update(_id, olds, news) {
    return { outs: { ...olds, role: news.role } };
  },

  async delete(id, props) {
    if (props.addedByThisStack !== true) return; // never someone this resource did not add
    const client = clientFor(props.organization, props.role);
    if ((await client.getOrganization()).ownerId === id) {
      throw new Error(
        `${props.principalName} still owns the organization ${props.organization}, so it is not removed: hand ownership back first (the cleanup phase does, before removing it).`,
      );
    }
    await client.removeUser(id);
  },
};

/**
 * A user added to the Azure DevOps organization with a license; removing the resource removes the
 * user from the organization, if this resource added it.
 */
export class OrganizationUser extends pulumi.dynamic.Resource {
  declare public readonly userId: pulumi.Output<string>;
  declare public readonly principalName: pulumi.Output<string>;
  declare public readonly addedByThisStack: pulumi.Output<boolean>;

  constructor(name: string, args: OrganizationUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        license: "express",
        role: "owner",
        ...args,
        userId: undefined,
        addedByThisStack: undefined,
        ownerBefore: undefined,
      },
      opts,
      MODULE,
      "OrganizationUser",
    );
  }
}
