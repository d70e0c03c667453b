import * as pulumi from "@pulumi/pulumi";
import { NormalizedWorld, World, normalizeWorld } from "../emulator/world";
import { getUsersResult } from "./azureadShapes";

/** The outputs a previous run left, which the program reads back through its self stack reference. */
export interface Ledger {
  readonly invitedGuests?: string[];
  readonly identityMappings?: readonly { userId: string; from: string; to: string }[];
  readonly temporaryOwner?: { readonly msaEmail?: string };
}

/** One resource the program registered under mocks. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/** The invokes the program is allowed to make, answered from the world's tenant. */
const INVOKES = {
  getUsers: "azuread:index/getUsers:getUsers",
  getUser: "azuread:index/getUser:getUser",
  getDomains: "azuread:index/getDomains:getDomains",
  getClientConfig: "azuread:index/getClientConfig:getClientConfig",
} as const;

/** Resource types the program may register; anything else fails the test. */
export const TYPES = {
  invitation: "azuread:index/invitation:Invitation",
  randomPet: "random:index/randomPet:RandomPet",
  stackReference: "pulumi:pulumi:StackReference",
  tenantGuests: "devops-entra-connect:entra:TenantGuests",
  temporaryOwner: "devops-entra-connect:organization:TemporaryOwner",
  directoryConnection: "devops-entra-connect:organization:DirectoryConnection",
  organizationUser: "pulumi-nodejs:dynamic/devops-entra-connect:OrganizationUser",
  organizationOwner: "pulumi-nodejs:dynamic/devops-entra-connect:OrganizationOwner",
  tenantConnection: "pulumi-nodejs:dynamic/devops-entra-connect:TenantConnection",
  userMapping: "pulumi-nodejs:dynamic/devops-entra-connect:UserMapping",
} as const;
const RESOURCE_TYPES = new Set<string>(Object.values(TYPES));

/**
 * Pulumi mocks that answer azuread invokes from the same world fixture as the Azure DevOps
 * emulator, record every registration and fail closed: an invoke or resource type the program is
 * not expected to use throws, which fails the program and so the test (STYLE habit 7).
 */
export class WorldMocks implements pulumi.runtime.Mocks {
  readonly registrations: Registration[] = [];
  readonly invokes: string[] = [];
  /** What failed closed; the SDK drops a mock's error message, so tests read it here. */
  readonly unexpected: string[] = [];
  private world: NormalizedWorld;

  /**
   * @param world the tenant (and organization) the invokes answer from
   * @param ledger the `invitedGuests` output a previous run left, returned by the self stack reference
   * @param signedInTenant the tenant the azuread provider is signed in to (default: the world's)
   */
  constructor(
    world: World,
    ledger?: string[] | Ledger,
    private readonly signedInTenant?: string,
    private readonly disabledInvokes: readonly string[] = [],
  ) {
    this.world = normalizeWorld(world);
    this.ledger = Array.isArray(ledger) ? { invitedGuests: ledger } : ledger;
  }

  private readonly ledger?: Ledger;

  /** Replaces the world the invokes answer from (e.g. after invitees redeemed). */
  setWorld(world: World): void {
    this.world = normalizeWorld(world);
  }

  registered(type: string): Registration[] {
    return this.registrations.filter((r) => r.type === type);
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    this.invokes.push(args.token);
    if (this.disabledInvokes.includes(args.token))
      this.failClosed(`unexpected invoke ${args.token}`);
    const tenant = this.world.tenant;
    switch (args.token) {
      case INVOKES.getClientConfig:
        return {
          tenantId: this.signedInTenant ?? tenant.id,
          clientId: "00000000-0000-0000-0000-0000000000c1",
          objectId: "00000000-0000-0000-0000-0000000000c2",
        };
      case INVOKES.getDomains:
        return {
          domains: tenant.domains.map((d, i) => ({
            domainName: d,
            verified: true,
            default: i === 0,
            initial: d.endsWith(".onmicrosoft.com"),
            root: true,
            adminManaged: true,
            authenticationType: "Managed",
            supportedServices: ["Email"],
          })),
        };
      case INVOKES.getUsers: {
        // Only the one paged scan is expected: a per-address lookup would cost a request per user.
        if (args.inputs.returnAll !== true) {
          this.failClosed(`getUsers called without returnAll: ${JSON.stringify(args.inputs)}`);
        }
        return getUsersResult(tenant.users);
      }
      case INVOKES.getUser: {
        const user = tenant.users.find((u) => u.objectId === args.inputs.objectId);
        if (user === undefined)
          this.failClosed(`getUser: no user with objectId ${String(args.inputs.objectId)}`);
        return {
          objectId: user.objectId,
          userPrincipalName: user.userPrincipalName,
          mail: user.mail ?? "",
          userType: user.userType,
          externalUserState: user.externalUserState ?? "Accepted",
          displayName: user.displayName,
          accountEnabled: user.accountEnabled,
        };
      }
      default:
        return this.failClosed(`unexpected invoke ${args.token}`);
    }
  }

  private failClosed(message: string): never {
    this.unexpected.push(message);
    throw new Error(message);
  }

  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string | undefined;
    state: Record<string, unknown>;
  } {
    if (!RESOURCE_TYPES.has(args.type))
      this.failClosed(`unexpected resource type ${args.type} (${args.name})`);
    this.registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
    switch (args.type) {
      case "pulumi:pulumi:StackReference":
        return {
          id: String(args.inputs.name),
          state: {
            name: args.inputs.name,
            outputs: { ...this.ledger },
            secretOutputNames: [],
          },
        };
      case "azuread:index/invitation:Invitation": {
        const email = String(args.inputs.userEmailAddress);
        return {
          id: `invitation-${email}`,
          state: {
            ...args.inputs,
            userId: `guest-${email}`,
            redeemUrl: `https://login.example/redeem/${email}`,
          },
        };
      }
      case TYPES.randomPet:
        return { id: "brave-otter", state: { ...args.inputs } };
      case TYPES.organizationUser:
        return {
          id: `user-${String(args.inputs.principalName)}`,
          state: { ...args.inputs, userId: `user-${String(args.inputs.principalName)}` },
        };
      default:
        return { id: args.custom ? `${args.name}-id` : undefined, state: args.inputs };
    }
  }
}

/** Resolves an Output's value under mocks. */
export function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** The outputs a run leaves for the next one to read back (what `pulumi up` would save). */
export function ledgerOf(run: {
  invitedGuests: string[];
  outputs: {
    identityMappings: readonly { userId: string; from: string; to: string }[];
    temporaryOwner?: { msaEmail?: string };
  };
}): Ledger {
  return {
    invitedGuests: run.invitedGuests,
    identityMappings: [...run.outputs.identityMappings],
    ...(run.outputs.temporaryOwner?.msaEmail
      ? { temporaryOwner: { msaEmail: run.outputs.temporaryOwner.msaEmail } }
      : {}),
  };
}
