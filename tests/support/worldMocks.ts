import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_TYPES } from "../../components/types";
import { READ_STACK_RESOURCES, type StackResources } from "../../inventory/stack";
import { NormalizedWorld, World, defaultUserId, normalizeWorld } from "../emulator/world";
import { getUsersResult } from "./azureadShapes";

/** One resource the program registered under mocks. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** Its URN (parents included), once the run finished (`programRun.ts` fills it in). */
  urn?: string;
}

/** The invokes the program is allowed to make, answered from the world's tenant. */
const INVOKES = {
  getUsers: "azuread:index/getUsers:getUsers",
  getUser: "azuread:index/getUser:getUser",
  getDomains: "azuread:index/getDomains:getDomains",
  getClientConfig: "azuread:index/getClientConfig:getClientConfig",
} as const;

/** Resource types the program may register; anything else fails the test. */
export const TYPES = RESOURCE_TYPES;
const REGISTRABLE = new Set<string>(Object.values(TYPES));

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
   * @param stack the resources a previous run left in the stack's state, which the program reads
   *   back (`pulumi:pulumi:readStackResourceOutputs`); default none, a new stack
   * @param signedInTenant the tenant the azuread provider is signed in to (default: the world's)
   */
  constructor(
    world: World,
    public stack: StackResources = {},
    private readonly signedInTenant?: string,
    private readonly disabledInvokes: readonly string[] = [],
  ) {
    this.world = normalizeWorld(world);
  }

  /** The organization owner's user id, as the emulator derives it. */
  private ownerId(): string {
    return (
      this.world.users.find((u) => u.principalName.toLowerCase() === this.world.owner.toLowerCase())
        ?.id ?? defaultUserId(this.world.owner)
    );
  }

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
      case READ_STACK_RESOURCES:
        return { name: args.inputs.stackName, outputs: this.stack };
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
    if (!REGISTRABLE.has(args.type))
      this.failClosed(`unexpected resource type ${args.type} (${args.name})`);
    this.registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
    switch (args.type) {
      case TYPES.invitation: {
        const email = String(args.inputs.userEmailAddress);
        // The user the invitation stands for: the tenant's, when it has one already.
        const existing = this.world.tenant.users.find(
          (u) => u.mail?.toLowerCase() === email.toLowerCase(),
        );
        return {
          id: `invitation-${email}`,
          state: {
            ...args.inputs,
            userId: existing?.objectId ?? `guest-${email}`,
            redeemUrl: `https://login.example/redeem/${email}`,
          },
        };
      }
      case TYPES.randomPet:
        return { id: "brave-otter", state: { ...args.inputs } };
      case TYPES.organizationUser: {
        // What the provider records when it adds the user: the emulator's id for that principal.
        const userId = defaultUserId(String(args.inputs.principalName));
        return {
          id: userId,
          state: { ...args.inputs, userId, addedByThisStack: true, ownerBefore: this.ownerId() },
        };
      }
      case TYPES.organizationOwner:
        return {
          id: `${String(args.inputs.organization)}/owner`,
          state: {
            ...args.inputs,
            ownerId: defaultUserId(String(args.inputs.ownerPrincipalName)),
            previousOwnerId: this.ownerId(),
          },
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
