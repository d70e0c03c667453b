import * as pulumi from "@pulumi/pulumi";
import { ZERO_TENANT } from "../devops/organizationEndpoints";
import { CallerRole, clientFor, rememberTokens } from "./credentials";

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
  /** Checks after connecting that the organization reports the tenant; default 10 tries, 3 s apart. */
  readonly verifyAttempts?: pulumi.Input<number>;
  readonly verifyIntervalMs?: pulumi.Input<number>;
}

interface Inputs {
  organization: string;
  tenantId: string;
  role: CallerRole;
  allowDisconnect: boolean;
  verifyAttempts: number;
  verifyIntervalMs: number;
}

interface Outputs extends Inputs {
  /** When the connection was verified (ISO time). */
  verifiedAt: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The organization's connection to an Entra tenant (DOMAIN §2 "Connect / disconnect", undocumented).
 * Create connects and then verifies with two independent readings; `read` reports the tenant the
 * organization is really on, so `pulumi refresh` shows a change made in the portal; delete leaves
 * the organization connected unless `allowDisconnect` is set.
 */
export const provider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    rememberTokens(req.config);
  },

  async check(_olds, news) {
    const tenantId = String(news.tenantId ?? "")
      .trim()
      .toLowerCase();
    if (!GUID.test(tenantId) || tenantId === ZERO_TENANT) {
      return {
        failures: [
          { property: "tenantId", reason: `"${String(news.tenantId)}" is not a tenant GUID` },
        ],
      };
    }
    return {
      inputs: {
        ...news,
        tenantId,
        role: news.role === "temporaryOwner" ? "temporaryOwner" : "owner",
        allowDisconnect: news.allowDisconnect === true,
        verifyAttempts: Number(news.verifyAttempts ?? 10),
        verifyIntervalMs: Number(news.verifyIntervalMs ?? 3000),
      },
    };
  },

  async diff(_id, olds: Outputs, news: Inputs) {
    // A different tenant is a replacement. Refusing it is the program's job (it sees the live
    // tenant before registering anything): the engine also calls diff during `pulumi refresh`,
    // where throwing would make the drift impossible to record.
    const replaces = [
      ...(olds.organization !== news.organization ? ["organization"] : []),
      ...(olds.tenantId !== news.tenantId ? ["tenantId"] : []),
    ];
    const changes =
      replaces.length > 0 ||
      olds.allowDisconnect !== news.allowDisconnect ||
      olds.role !== news.role;
    // An organization is on one tenant at a time: disconnect before connecting to the new one.
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async create(inputs: Inputs) {
    const client = clientFor(inputs.organization, inputs.role);
    const current = (await client.getOrganization()).tenantId;
    if (current !== null && current !== inputs.tenantId) {
      throw new Error(
        `The organization ${inputs.organization} is connected to another tenant (${current}); refusing to connect it to ${inputs.tenantId}.`,
      );
    }
    // Already on the target (a previous run connected, then failed before saving): adopt it.
    if (current === null) await client.setTenant(inputs.tenantId);
    for (let attempt = 1; ; attempt++) {
      const [collection, header] = await Promise.all([
        client.getOrganization(),
        client.getResourceTenant(),
      ]);
      if (collection.tenantId === inputs.tenantId && header === inputs.tenantId) break;
      if (attempt >= inputs.verifyAttempts) {
        throw new Error(
          `The organization ${inputs.organization} was connected to ${inputs.tenantId}, but it still reports ${collection.tenantId ?? "no tenant"} (header: ${header ?? "none"}); check Organization settings → Microsoft Entra.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, inputs.verifyIntervalMs));
    }
    const outs: Outputs = { ...inputs, verifiedAt: new Date().toISOString() };
    return { id: `${inputs.organization}/tenant`, outs };
  },

  async read(id, props: Outputs) {
    const tenantId =
      (await clientFor(props.organization, props.role).getOrganization()).tenantId ?? ZERO_TENANT;
    const { verifiedAt, ...inputs } = props;
    return { id, props: { ...props, tenantId }, inputs };
  },

  async update(_id, olds: Outputs, news: Inputs) {
    return { outs: { ...news, verifiedAt: olds.verifiedAt } };
  },

  async delete(_id, props: Outputs) {
    if (!props.allowDisconnect) return; // leaving the program never disconnects by accident
    const client = clientFor(props.organization, props.role);
    if ((await client.getOrganization()).tenantId !== null) await client.setTenant(ZERO_TENANT);
  },
};

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
      "devops-entra-connect",
      "TenantConnection",
    );
  }
}
