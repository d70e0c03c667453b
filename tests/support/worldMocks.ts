import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_TYPES } from "../../components/types";
import { READ_STACK_RESOURCES, type StackResources } from "../../inventory/stack";
import {
  type TenantUser,
  type World,
  defaultUserId,
  objectIdOf,
  userIdOf,
} from "../emulator/world";
import {
  InvokeError,
  clientConfigResult,
  domainsResult,
  getUserResult,
  getUsersResult,
  requireReturnAll,
} from "./azureadShapes";
import {
  InviteeIndex,
  REALISTIC_GRAPH,
  type StoredUser,
  type TenantStore,
  classifyInvitee,
  createInvitation,
  invitationInputsOf,
} from "./entraGraph";

/** The resource options a registration carried to the engine (its RegisterResourceRequest). */
export interface RegisteredOptions {
  /** undefined when the program did not set it (the engine then deletes). */
  readonly retainOnDelete?: boolean;
  readonly ignoreChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly protect?: boolean;
  /** The parent's URN; empty for a resource registered at the top. */
  readonly parent: string;
  /**
   * The URNs it waits for (`dependsOn` and the resources its inputs come from); a component in
   * `dependsOn` stands for its children, which the SDK lists instead.
   */
  readonly dependsOn: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
}

/** One resource the program registered under mocks. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** What the program declared for it; undefined unless {@link WorldMocks.observe} was called. */
  readonly options?: RegisteredOptions;
  /** Its URN (parents included), once the run finished (`programRun.ts` fills it in). */
  urn?: string;
  /**
   * What the mock monitor holds for it once the run finished: a component's registered outputs,
   * which the engine records in the state like any resource's.
   */
  state?: Record<string, unknown>;
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

/** The part of the SDK's RegisterResourceRequest (resource_pb.js) that carries the options. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  hasRetainondelete(): boolean;
  getRetainondelete(): boolean;
  getIgnorechangesList(): string[];
  getDeletebeforereplace(): boolean;
  hasProtect(): boolean;
  getProtect(): boolean;
  getParent(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
}
type RegisterResource = (req: RegisterRequest, callback: unknown) => unknown;

function optionsOf(req: RegisterRequest): RegisteredOptions {
  return {
    ...(req.hasRetainondelete() ? { retainOnDelete: req.getRetainondelete() } : {}),
    ignoreChanges: req.getIgnorechangesList(),
    deleteBeforeReplace: req.getDeletebeforereplace(),
    ...(req.hasProtect() ? { protect: req.getProtect() } : {}),
    parent: req.getParent(),
    dependsOn: req.getDependenciesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
  };
}

/**
 * The mocked tenant behind the invitations: the world's tenant users, indexed by the addresses
 * Graph's invitation check matches and by object id, so that thousands of invitations stay cheap.
 */
class MockTenant implements TenantStore {
  private index?: InviteeIndex<TenantUser>;
  private byId?: Map<string, TenantUser>;

  constructor(private readonly world: World) {}

  private stored(u: TenantUser): StoredUser {
    return { ...u, objectId: objectIdOf(u, this.world.tenant.id) };
  }

  private ids(): Map<string, TenantUser> {
    this.byId ??= new Map(this.world.tenant.users.map((u) => [this.stored(u).objectId, u]));
    return this.byId;
  }

  private invitationIndex(): InviteeIndex<TenantUser> {
    this.index ??= new InviteeIndex(this.world.tenant.users);
    return this.index;
  }

  matches(address: string): StoredUser[] {
    return this.invitationIndex()
      .matching(address)
      .map((u) => this.stored(u));
  }

  async tenant(): Promise<{ id: string; domains: readonly string[] }> {
    return this.world.tenant;
  }
  async invitees(address: string): Promise<readonly StoredUser[]> {
    return this.matches(address);
  }
  async user(objectId: string): Promise<StoredUser | undefined> {
    const u = this.ids().get(objectId.toLowerCase());
    return u === undefined ? undefined : this.stored(u);
  }
  async add(user: StoredUser): Promise<void> {
    this.world.tenant.users.push(user);
    this.invitationIndex().add(user);
    this.ids().set(user.objectId.toLowerCase(), user);
  }
  async patch(objectId: string, fields: Pick<TenantUser, "companyName">): Promise<void> {
    Object.assign(this.ids().get(objectId.toLowerCase()) ?? {}, fields);
  }
  async remove(objectId: string): Promise<void> {
    const user = this.ids().get(objectId.toLowerCase());
    if (user === undefined) return;
    this.world.tenant.users.splice(this.world.tenant.users.indexOf(user), 1);
    this.invitationIndex().remove(user);
    this.ids().delete(objectId.toLowerCase());
  }
}

/**
 * Pulumi mocks that answer azuread invokes from the same world fixture as the Azure DevOps
 * emulator, with the same code as the e2e stand-in, record every registration (and, once
 * {@link observe}d, the options it carried) and fail closed: an invoke or resource type the program
 * is not expected to use throws, which fails the program and so the test.
 */
export class WorldMocks implements pulumi.runtime.Mocks {
  readonly registrations: Registration[] = [];
  readonly invokes: string[] = [];
  /** What failed closed; the SDK drops a mock's error message, so tests read it here. */
  readonly unexpected: string[] = [];
  /** The mocked tenant (and organization): a copy of the world given, changed by invitations. */
  private world: World;
  private tenant: MockTenant;
  private readonly options = new Map<string, RegisteredOptions>();

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
    this.world = structuredClone(world);
    this.tenant = new MockTenant(this.world);
  }

  /** The organization owner's user id, as the emulator derives it. */
  private ownerId(): string {
    const owner = this.world.users.find(
      (u) => u.principalName.toLowerCase() === this.world.owner.toLowerCase(),
    );
    return owner ? userIdOf(owner) : defaultUserId(this.world.owner);
  }

  /** Replaces the world the invokes answer from (e.g. after invitees redeemed). */
  setWorld(world: World): void {
    this.world = structuredClone(world);
    this.tenant = new MockTenant(this.world);
  }

  /**
   * Makes these the runtime's mocks for one evaluation of stack `dev` of this project (a
   * `preview` when asked), recording every registration's options.
   */
  async install(preview = false): Promise<void> {
    await pulumi.runtime.setMocks(this, "devops-entra-connect", "dev", preview, "organization");
    this.observe();
  }

  /**
   * Records the options of every registration as the SDK sends them to the engine: the mocks API
   * hands `newResource` only type, name and inputs, so this reads the RegisterResourceRequest on
   * its way to the mock monitor. Call right after `setMocks`. The mini engine honours
   * `retainOnDelete` and `ignoreChanges` from these (rule Z18), never from a resource's name.
   */
  observe(): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource: RegisterResource;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      this.options.set(`${req.getType()}::${req.getName()}`, optionsOf(req));
      return register(req, callback);
    };
  }

  /**
   * The stack's state once the run finished, as a successful `pulumi up` would leave it under
   * mocks: every registered resource with the state the mock monitor holds for it (a component's,
   * its registered outputs). Fills in each registration's URN and state. Call after
   * `pulumi.runtime.disconnect()`, which lets every outstanding registration finish.
   */
  recordState(): StackResources {
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      getRegisteredResources(): Map<string, { urn: string; state: Record<string, unknown> }>;
    };
    const state: Record<string, { type: string; outputs: Record<string, unknown> }> = {};
    for (const [urn, r] of monitor.getRegisteredResources()) {
      const type = urn.split("::")[2].split("$").pop() as string;
      // A component's registered outputs are kept as the protobuf Struct the SDK sent.
      const raw = r.state as { toJavaScript?: () => Record<string, unknown> };
      const recorded = typeof raw.toJavaScript === "function" ? raw.toJavaScript() : r.state;
      state[urn] = { type, outputs: recorded };
      const name = urn.slice(urn.lastIndexOf("::") + 2);
      for (const reg of this.registrations) {
        if (reg.name !== name || reg.type !== type) continue;
        reg.urn = urn;
        reg.state = recorded;
      }
    }
    return state;
  }

  registered(type: string): Registration[] {
    return this.registrations.filter((r) => r.type === type);
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    this.invokes.push(args.token);
    if (this.disabledInvokes.includes(args.token))
      this.failClosed(`unexpected invoke ${args.token}`);
    try {
      return this.answer(args.token, args.inputs as Record<string, unknown>);
    } catch (err) {
      // The real provider's refusals fail the program too; their text is kept for the test.
      if (err instanceof InvokeError) this.failClosed(err.message);
      throw err;
    }
  }

  // rule Z15 [obs] the unit mocks answer every invoke with the e2e stand-in's code (tests/support/azureadShapes.ts, rules Z11–Z14), from the raw world so that Graph's nulls (externalUserState) survive
  private answer(token: string, inputs: Record<string, unknown>): pulumi.runtime.MockCallResult {
    const tenant = this.world.tenant;
    switch (token) {
      case READ_STACK_RESOURCES:
        return { name: inputs.stackName, outputs: this.stack };
      case INVOKES.getClientConfig:
        return clientConfigResult(this.signedInTenant ?? tenant.id);
      case INVOKES.getDomains:
        return domainsResult(tenant, inputs);
      case INVOKES.getUsers:
        requireReturnAll(inputs);
        return getUsersResult(tenant);
      case INVOKES.getUser:
        return getUserResult(tenant, inputs);
      default:
        return this.failClosed(`unexpected invoke ${token}`);
    }
  }

  private failClosed(message: string): never {
    this.unexpected.push(message);
    throw new Error(message);
  }

  async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{
    id: string | undefined;
    state: Record<string, unknown>;
  }> {
    if (!REGISTRABLE.has(args.type))
      this.failClosed(`unexpected resource type ${args.type} (${args.name})`);
    const options = this.options.get(`${args.type}::${args.name}`);
    this.registrations.push({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      ...(options ? { options } : {}),
    });
    switch (args.type) {
      case TYPES.invitation:
        return this.invite(args.inputs as Record<string, unknown>);
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

  /**
   * An invitation as the stand-in makes it, on the mocked tenant; a preview sends nothing to Graph,
   * so it changes nothing and knows only an existing invitee's object id.
   */
  private async invite(
    inputs: Record<string, unknown>,
  ): Promise<{ id: string | undefined; state: Record<string, unknown> }> {
    // rule Z16 [obs] the unit mocks invite with the e2e stand-in's code (tests/support/entraGraph.ts, rules Z4–Z9): a new guest joins the mocked tenant, an existing external user is returned, a member's address fails; a preview changes nothing (the engine does not create in a preview)
    const address = String(inputs.userEmailAddress);
    if (pulumi.runtime.isDryRun()) {
      const invitee = classifyInvitee(this.tenant.matches(address));
      const userId = invitee.kind === "existing" ? invitee.user.objectId : "";
      return { id: undefined, state: { ...inputs, userId } };
    }
    try {
      const invited = invitationInputsOf(inputs);
      const { id, state } = await createInvitation(this.tenant, invited, REALISTIC_GRAPH);
      return { id, state: { ...inputs, ...state } };
    } catch (err) {
      return this.failClosed((err as Error).message);
    }
  }
}

/** Resolves an Output's value under mocks. */
export function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
