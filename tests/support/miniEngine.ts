import { strict as assert } from "node:assert";
import type * as pulumi from "@pulumi/pulumi";
import type { Emulator } from "../emulator/server";
import { objectIdOf } from "../emulator/world";
import { changedKeys } from "../e2e/standins/common";
import { loadSerializedProvider } from "./engineLike";
import {
  type GraphSwitches,
  INVITATION_DEFAULTS,
  INVITATION_INPUTS,
  InvitationInitError,
  type InvitationState,
  REALISTIC_GRAPH,
  type TenantStore,
  createInvitation,
  deleteInvitation,
  invitationInputsOf,
  readInvitation,
  snapshotStore,
} from "./entraGraph";
import type { StackResources } from "../../inventory/stack";
import { type RegisteredOptions, TYPES, type Registration } from "./worldMocks";

/** One resource in the mini engine's state. */
interface Entry {
  readonly type: string;
  readonly name: string;
  /** The URN the program registered it under (parents included). */
  readonly urn: string;
  id: string;
  outs: Record<string, unknown>;
  /** The options of the latest registration, as the engine records them in the state. */
  options?: RegisteredOptions;
  /** For dynamic resources: the provider loaded from the serialized `__provider`, as the engine does. */
  provider?: pulumi.dynamic.ResourceProvider;
}

export type Step = { op: "create" | "update" | "replace" | "delete" | "same"; name: string };

/** The in-process emulator's tenant as Graph's user endpoints see it (tests/support/entraGraph.ts). */
function emulatorTenant(emulator: Emulator): TenantStore {
  const userById = (objectId: string) => {
    const t = emulator.world.tenant;
    const user = t.users.find((u) => objectIdOf(u, t.id) === objectId.toLowerCase());
    assert.ok(user, `no tenant user has the object id ${objectId}`);
    return user;
  };
  return snapshotStore(async () => emulator.world.tenant, {
    add: async (user) => void emulator.addTenantUser(user),
    patch: async (objectId, fields) => void Object.assign(userById(objectId), fields),
    remove: async (objectId) =>
      void emulator.removeTenantUser(userById(objectId).userPrincipalName),
  });
}

/**
 * A stand-in for the engine's step generation, enough to run the program's phases end to end
 * against the emulator: it calls each dynamic provider (deserialized from its `__provider` input,
 * configured with the stack config) for create/diff/update/delete, in registration order for
 * creates and reverse creation order for deletes, and plays azuread's part for invitations on the
 * emulator's tenant with the e2e stand-in's code (tests/support/entraGraph.ts). It honours the
 * options the program declared (recorded by `WorldMocks.observe`): `retainOnDelete` and
 * `ignoreChanges`. A replacement fails the test: none is expected in a migration. The real engine
 * is exercised by the end-to-end suite.
 */
export class MiniEngine {
  private readonly state = new Map<string, Entry>();
  private readonly tenant: TenantStore;

  constructor(
    emulator: Emulator,
    private readonly config: pulumi.dynamic.Config,
    private readonly graph: GraphSwitches = REALISTIC_GRAPH,
  ) {
    this.tenant = emulatorTenant(emulator);
  }

  /** Applies one program evaluation's registrations; returns the steps taken. */
  async apply(registrations: readonly Registration[], dryRun = false): Promise<Step[]> {
    const steps: Step[] = [];
    const seen = new Set<string>();
    for (const r of registrations) {
      seen.add(r.name);
      const existing = this.state.get(r.name);
      // A preview records nothing, the options included.
      if (existing && r.options && !dryRun) existing.options = r.options;
      if (r.type.startsWith("pulumi-nodejs:dynamic/")) {
        steps.push(await this.applyDynamic(r, existing, dryRun));
      } else if (r.type === TYPES.invitation) {
        steps.push(await this.applyInvitation(r, existing, dryRun));
      } else {
        steps.push({ op: existing === undefined ? "create" : "same", name: r.name });
        if (!dryRun) this.record(r, r.name, r.state ?? r.inputs);
      }
    }
    // Resources the program no longer declares: deleted, dependents first.
    for (const entry of [...this.state.values()].reverse()) {
      if (seen.has(entry.name)) continue;
      steps.push({ op: "delete", name: entry.name });
      if (!dryRun) await this.delete(entry);
    }
    return steps;
  }

  /**
   * `pulumi refresh` of the invitations: each reads its invited user back as the provider does,
   * so that the next `apply` diffs against what was read (Graph's mail as `userEmailAddress`).
   * Returns the names of the invitations whose state changed.
   */
  async refreshInvitations(): Promise<string[]> {
    const changed: string[] = [];
    for (const entry of this.state.values()) {
      if (entry.type !== TYPES.invitation) continue;
      const read = await readInvitation(this.tenant, entry.outs as unknown as InvitationState);
      const outs = { ...entry.outs, ...read };
      if (JSON.stringify(outs) !== JSON.stringify(entry.outs)) changed.push(entry.name);
      entry.outs = outs;
    }
    return changed;
  }

  /** The options a resource was last registered with, as the state records them. */
  options(name: string): RegisteredOptions | undefined {
    return this.state.get(name)?.options;
  }

  /** The names of what is in the state. */
  names(): string[] {
    return [...this.state.keys()];
  }

  /** The state as the program reads it back (`pulumi:pulumi:readStackResourceOutputs`). */
  stack(): StackResources {
    return Object.fromEntries(
      [...this.state.values()].map((e) => [e.urn, { type: e.type, outputs: e.outs }]),
    );
  }

  private record(r: Registration, id: string, outs: Record<string, unknown>): Entry {
    const entry: Entry = {
      type: r.type,
      name: r.name,
      urn: urnOf(r),
      id,
      outs,
      ...(r.options ? { options: r.options } : {}),
    };
    this.state.set(r.name, entry);
    return entry;
  }

  private async applyDynamic(
    r: Registration,
    existing: Entry | undefined,
    dryRun: boolean,
  ): Promise<Step> {
    const provider = loadSerializedProvider(String(r.inputs.__provider));
    await provider.configure?.({ config: this.config });
    const news = Object.fromEntries(
      Object.entries(r.inputs).filter(([k, v]) => k !== "__provider" && v !== undefined),
    );
    const checked = await provider.check!(existing?.outs ?? {}, news);
    assert.equal(checked.failures, undefined, `${r.name}: ${JSON.stringify(checked.failures)}`);
    if (existing === undefined) {
      if (!dryRun) {
        const created = await provider.create(checked.inputs);
        this.record(r, created.id, created.outs).provider = provider;
      }
      return { op: "create", name: r.name };
    }
    const diff = await provider.diff!(existing.id, existing.outs, checked.inputs);
    if (diff.replaces && diff.replaces.length > 0) {
      assert.fail(
        `${r.name} would be replaced (${diff.replaces.join(", ")}): not expected in a migration`,
      );
    }
    if (!diff.changes) return { op: "same", name: r.name };
    if (!dryRun) {
      const updated = await provider.update!(existing.id, existing.outs, checked.inputs);
      existing.outs = updated.outs ?? existing.outs;
      existing.provider = provider;
    }
    return { op: "update", name: r.name };
  }

  /** azuread's part, with the stand-in's code; `ignoreChanges` applied as the engine applies it. */
  private async applyInvitation(
    r: Registration,
    existing: Entry | undefined,
    dryRun: boolean,
  ): Promise<Step> {
    if (existing !== undefined) {
      const ignored = new Set(r.options?.ignoreChanges ?? []);
      const keys = INVITATION_INPUTS.filter((k) => !ignored.has(k));
      const replaces = changedKeys(keys, existing.outs, r.inputs, INVITATION_DEFAULTS);
      if (replaces.length > 0) {
        assert.fail(
          `${r.name} would be replaced (${replaces.join(", ")}), which deletes its user unless retained: not expected in a migration`,
        );
      }
      return { op: "same", name: r.name };
    }
    if (!dryRun) await this.createInvitation(r);
    return { op: "create", name: r.name };
  }

  private async createInvitation(r: Registration): Promise<void> {
    const inputs = r.inputs;
    // rule Z17 [obs] the mini engine creates, reads and deletes invitations with the e2e stand-in's code (tests/support/entraGraph.ts, rules Z3–Z10) on the in-process emulator: an existing invitee is returned, never a 409; guests land at the tenant's initial domain
    try {
      const invited = invitationInputsOf(inputs);
      const { id, state } = await createInvitation(this.tenant, invited, this.graph);
      this.record(r, id, { ...inputs, ...state });
    } catch (err) {
      // Created but not initialized: the engine keeps it in the state, then fails the update.
      if (err instanceof InvitationInitError)
        this.record(r, err.id, { ...inputs, ...err.properties });
      throw err;
    }
  }

  private async delete(entry: Entry): Promise<void> {
    // rule Z18 [doc] pulumi.com/docs/iac/concepts/options/retainondelete: a resource retained on delete leaves the state only, its provider is never called; the option is the one the program declared (WorldMocks.observe), so a component that forgets it loses its guests here too
    if (entry.options?.retainOnDelete !== true) {
      if (entry.provider) await entry.provider.delete!(entry.id, entry.outs);
      if (entry.type === TYPES.invitation) {
        await deleteInvitation(this.tenant, entry.outs as unknown as InvitationState);
      }
    }
    this.state.delete(entry.name);
  }
}

/** The registration's URN; one built from type and name for registrations a test wrote by hand. */
function urnOf(r: Registration): string {
  return r.urn ?? `urn:pulumi:dev::devops-entra-connect::${r.type}::${r.name}`;
}
