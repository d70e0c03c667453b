import { strict as assert } from "node:assert";
import type * as pulumi from "@pulumi/pulumi";
import type { Emulator } from "../emulator/server";
import { defaultObjectId } from "../emulator/world";
import { loadSerializedProvider } from "./engineLike";
import type { StackResources } from "../../inventory/stack";
import { TYPES, type Registration } from "./worldMocks";

/** One resource in the mini engine's state. */
interface Entry {
  readonly type: string;
  readonly name: string;
  /** The URN the program registered it under (parents included). */
  readonly urn: string;
  id: string;
  outs: Record<string, unknown>;
  /** For dynamic resources: the provider loaded from the serialized `__provider`, as the engine does. */
  provider?: pulumi.dynamic.ResourceProvider;
}

export type Step = { op: "create" | "update" | "replace" | "delete" | "same"; name: string };

/**
 * A stand-in for the engine's step generation, enough to run the program's phases end to end
 * against the emulator: it calls each dynamic provider (deserialized from its `__provider` input,
 * configured with the stack config) for create/diff/update/delete, in registration order for
 * creates and reverse creation order for deletes, and plays azuread's part for invitations on the
 * emulator's tenant. It honours what the components declare: the users' invitations are retained
 * on delete, the temporary owner's is not. The real engine is exercised by the end-to-end suite.
 */
export class MiniEngine {
  private readonly state = new Map<string, Entry>();

  constructor(
    private readonly emulator: Emulator,
    private readonly config: pulumi.dynamic.Config,
  ) {}

  /** Applies one program evaluation's registrations; returns the steps taken. */
  async apply(registrations: readonly Registration[], dryRun = false): Promise<Step[]> {
    const steps: Step[] = [];
    const seen = new Set<string>();
    for (const r of registrations) {
      seen.add(r.name);
      const existing = this.state.get(r.name);
      if (r.type.startsWith("pulumi-nodejs:dynamic/")) {
        const provider = loadSerializedProvider(String(r.inputs.__provider));
        await provider.configure?.({ config: this.config });
        const news = Object.fromEntries(
          Object.entries(r.inputs).filter(([k, v]) => k !== "__provider" && v !== undefined),
        );
        const checked = await provider.check!(existing?.outs ?? {}, news);
        assert.equal(checked.failures, undefined, `${r.name}: ${JSON.stringify(checked.failures)}`);
        if (existing === undefined) {
          steps.push({ op: "create", name: r.name });
          if (!dryRun) {
            const created = await provider.create(checked.inputs);
            this.state.set(r.name, {
              type: r.type,
              name: r.name,
              urn: urnOf(r),
              id: created.id,
              outs: created.outs,
              provider,
            });
          }
          continue;
        }
        const diff = await provider.diff!(existing.id, existing.outs, checked.inputs);
        if (diff.replaces && diff.replaces.length > 0) {
          steps.push({ op: "replace", name: r.name });
          assert.fail(
            `${r.name} would be replaced (${diff.replaces.join(", ")}): not expected in a migration`,
          );
        } else if (diff.changes) {
          steps.push({ op: "update", name: r.name });
          if (!dryRun) {
            const updated = await provider.update!(existing.id, existing.outs, checked.inputs);
            existing.outs = updated.outs ?? existing.outs;
            existing.provider = provider;
          }
        } else {
          steps.push({ op: "same", name: r.name });
        }
        continue;
      }
      if (r.type === TYPES.invitation) {
        const email = String(r.inputs.userEmailAddress);
        if (existing === undefined) {
          steps.push({ op: "create", name: r.name });
          if (!dryRun) {
            // azuread's part: an invitation creates a pending user in the tenant, whose object id
            // the provider records as `userId` (docs/entra.md#invitations).
            const [alias, domain] = email.split("@");
            const upn = `${alias}_${domain}#EXT#@fabrikam.onmicrosoft.com`;
            this.emulator.addTenantUser({
              userPrincipalName: upn,
              mail: email,
              userType: r.inputs.userType === "Member" ? "Member" : "Guest",
              externalUserState: "PendingAcceptance",
            });
            const userId = defaultObjectId(this.emulator.world.tenant.id, upn);
            this.state.set(r.name, {
              type: r.type,
              name: r.name,
              urn: urnOf(r),
              id: userId,
              outs: { ...r.inputs, userId },
            });
          }
        } else {
          steps.push({ op: "same", name: r.name });
        }
      } else if (existing === undefined) {
        steps.push({ op: "create", name: r.name });
      } else {
        steps.push({ op: "same", name: r.name });
      }
      if (!dryRun && existing === undefined && !this.state.has(r.name)) {
        this.state.set(r.name, {
          type: r.type,
          name: r.name,
          urn: urnOf(r),
          id: r.name,
          outs: r.inputs,
        });
      }
    }
    // Resources the program no longer declares: deleted, dependents first.
    for (const entry of [...this.state.values()].reverse()) {
      if (seen.has(entry.name)) continue;
      steps.push({ op: "delete", name: entry.name });
      if (dryRun) continue;
      if (entry.provider) await entry.provider.delete!(entry.id, entry.outs);
      if (entry.type === TYPES.invitation && !entry.name.startsWith("guests-")) {
        this.emulator.removeTenantUser(String(entry.outs.userEmailAddress));
      }
      this.state.delete(entry.name);
    }
    return steps;
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
}

function urnOf(r: Registration): string {
  assert.ok(r.urn, `${r.name} has no URN: run the program through programRun.ts`);
  return r.urn;
}
