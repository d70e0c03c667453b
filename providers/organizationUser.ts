import * as pulumi from "@pulumi/pulumi";
import type { OrganizationUser as ApiUser } from "../devops/client";
import { CallerRole, clientFor, rememberTokens } from "./credentials";

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
 * What the provider records in the state. Only what identifies the user: its sign-in state, status
 * and origin change as people sign in and as the connection binds users, and recording them would
 * make every `pulumi refresh` report drift. The program reads those live in its inventory.
 */
interface Outputs extends Inputs {
  userId: string;
}

const LICENSES = ["express", "stakeholder", "advanced"];

function outputsOf(inputs: Inputs, user: ApiUser): Outputs {
  return {
    ...inputs,
    userId: user.id,
  };
}

/**
 * A user of the organization with a license (user entitlements API, DOMAIN §2). Gone on read means
 * gone from the state; delete of a user already removed (404) succeeds.
 */
export const provider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    rememberTokens(req.config);
  },

  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const principalName = String(news.principalName ?? "").trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(principalName)) {
      failures.push({
        property: "principalName",
        reason: `"${principalName}" is not an email or principal name`,
      });
    }
    const license = news.license ?? "express";
    if (!LICENSES.includes(license)) {
      failures.push({
        property: "license",
        reason: `license must be one of ${LICENSES.join(", ")}`,
      });
    }
    const inputs: Inputs = {
      organization: String(news.organization),
      principalName: principalName.toLowerCase(),
      license,
      role: news.role === "temporaryOwner" ? "temporaryOwner" : "owner",
    };
    return failures.length > 0 ? { failures } : { inputs: { ...news, ...inputs } };
  },

  async diff(_id, olds: Outputs, news: Inputs) {
    // The entitlement is identified by organization and principal name; a new license is a new
    // entitlement here (the add call sets it). The acting role does not change the user.
    const replaces = (["organization", "principalName", "license"] as const).filter(
      (k) => String(olds[k]).toLowerCase() !== String(news[k]).toLowerCase(),
    );
    return {
      changes: replaces.length > 0 || olds.role !== news.role,
      replaces,
      deleteBeforeReplace: true,
    };
  },

  async create(inputs: Inputs) {
    const client = clientFor(inputs.organization, inputs.role);
    let user: ApiUser | undefined;
    try {
      user = await client.addUser(inputs.principalName, inputs.license);
    } catch (err) {
      // A previous run may have added the user before failing: adopt it instead of failing forever.
      user = await client.findUser(inputs.principalName);
      if (user === undefined) throw err;
    }
    return { id: user.id, outs: outputsOf(inputs, user) };
  },

  async read(id, props: Outputs) {
    const user = await clientFor(props.organization, props.role).getUser(id);
    if (user === undefined) return {};
    const inputs: Inputs = {
      organization: props.organization,
      principalName: props.principalName,
      license: props.license,
      role: props.role,
    };
    return { id, props: outputsOf({ ...inputs, license: user.license }, user), inputs };
  },

  async update(_id, olds: Outputs, news: Inputs) {
    return { outs: { ...olds, role: news.role } };
  },

  async delete(id, props: Outputs) {
    await clientFor(props.organization, props.role).removeUser(id);
  },
};

/**
 * A user added to the Azure DevOps organization with a license; removing the resource removes the
 * user from the organization.
 */
export class OrganizationUser extends pulumi.dynamic.Resource {
  declare public readonly userId: pulumi.Output<string>;
  declare public readonly principalName: pulumi.Output<string>;

  constructor(name: string, args: OrganizationUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        license: "express",
        role: "owner",
        ...args,
        userId: undefined,
      },
      opts,
      "devops-entra-connect",
      "OrganizationUser",
    );
  }
}
