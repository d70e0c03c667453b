/**
 * Constructs one component alone under Pulumi's mocks, as pulumi-awsx and pulumi-eks unit-test
 * theirs: no program run, only what the component declares — its children with the options the
 * SDK sent to the engine ({@link WorldMocks.observe}), and the outputs it registered.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { PAT_ENV, TEMPORARY_OWNER_PAT_ENV } from "../../devops/credentials";
import type { World } from "../emulator/world";
import { envFor } from "./env";
import { fixture } from "./fixture";
import { OWNER_TOKEN, TEMPORARY_TOKEN } from "./programRun";
import { type RegisteredOptions, type Registration, WorldMocks, unwrap } from "./worldMocks";

/** A registration once the run finished: its URN, state and options are known. */
export type Registered = Registration & {
  readonly urn: string;
  readonly options: RegisteredOptions;
  readonly state: Record<string, unknown>;
};

export interface Constructed<C> {
  readonly component: C;
  readonly mocks: WorldMocks;
  /** The component's own registration; its `state` holds the outputs it registered. */
  readonly self: Registered;
  /** Its children, in the order it declared them. */
  readonly children: readonly Registered[];
  /** The child of `type` named `name`; fails the test when there is none. */
  child(type: string, name: string): Registered;
}

export interface ConstructOptions {
  /** A preview instead of an update (default false). */
  readonly preview?: boolean;
  /** The world the mocked tenant answers from (default: the reference world). */
  readonly world?: World;
  /** Stack configuration, full keys; the keys named in `secrets` are passed as secrets. */
  readonly config?: Record<string, string>;
  readonly secrets?: readonly string[];
  /** Environment variables set while the component is constructed, restored after. */
  readonly env?: Record<string, string>;
}

function registered(r: Registration): Registered {
  assert.ok(r.urn !== undefined && r.options !== undefined && r.state !== undefined, r.name);
  return r as Registered;
}

/**
 * Runs `build` under fresh mocks and waits until every registration it caused has finished. A
 * `build` that throws rejects with its error, once its pending registrations have settled.
 */
export async function construct<C extends pulumi.ComponentResource>(
  build: () => C,
  options: ConstructOptions = {},
): Promise<Constructed<C>> {
  const mocks = new WorldMocks(options.world ?? fixture());
  await mocks.install(options.preview ?? false);
  pulumi.runtime.setAllConfig(options.config ?? {}, [...(options.secrets ?? [])]);
  const env = envFor();
  for (const [key, value] of Object.entries(options.env ?? {})) env.set(key, value);
  let component: C;
  try {
    component = build();
  } finally {
    // Registrations of dynamic resources wait for their provider's serialization.
    await pulumi.runtime.disconnect();
    env.restore();
  }
  assert.deepEqual(mocks.unexpected, [], "only the expected invokes and registrations");
  mocks.recordState();
  const urn = await unwrap(component.urn);
  const all = mocks.registrations.map(registered);
  const self = all.find((r) => r.urn === urn);
  assert.ok(self, `the component ${urn} was registered`);
  const children = all.filter((r) => r.options.parent === urn);
  return {
    component,
    mocks,
    self,
    children,
    child(type, name) {
      const found = children.find((r) => r.type === type && r.name === name);
      assert.ok(found, `a child ${type} named ${name}`);
      return found;
    },
  };
}

/** Each child as `type::name`: what the stack's identity holds of it. */
export const identities = (children: readonly Registration[]): string[] =>
  children.map((r) => `${r.type}::${r.name}`);

/**
 * Every place a credential could reach a component: both tokens in the stack config (as secrets,
 * as the program gets them) and in the environment variables the providers fall back to.
 */
export const WITH_TOKENS: ConstructOptions = {
  config: {
    "devops-entra-connect:devopsToken": OWNER_TOKEN,
    "devops-entra-connect:temporaryOwner": JSON.stringify({
      msaEmail: "fabrikam-migration@outlook.com",
      devopsToken: TEMPORARY_TOKEN,
    }),
  },
  secrets: ["devops-entra-connect:devopsToken", "devops-entra-connect:temporaryOwner"],
  env: { [PAT_ENV]: OWNER_TOKEN, [TEMPORARY_OWNER_PAT_ENV]: TEMPORARY_TOKEN },
};

/**
 * The tokens found in anything the component registered: inputs (each dynamic resource's serialized
 * provider included), options and recorded state, i.e. what the engine would write to the state.
 */
export function tokensCarried(c: Constructed<unknown>): string[] {
  for (const r of c.mocks.registrations.filter((x) =>
    x.type.startsWith("pulumi-nodejs:dynamic/"),
  )) {
    // What is looked through must hold the provider's code, where a captured token would be.
    assert.ok(String(r.inputs.__provider).length > 1000, `${r.name}: its provider was serialized`);
  }
  const everything = JSON.stringify(c.mocks.registrations);
  return [OWNER_TOKEN, TEMPORARY_TOKEN].filter((t) => everything.includes(t));
}

/** What a resource was declared with; a dynamic resource's serialized provider left out. */
export function declaredInputs(r: Registration): Record<string, unknown> {
  const { __provider, ...inputs } = r.inputs;
  return inputs;
}

/**
 * The type tokens of the stack's resources, spelled out rather than imported from
 * components/types.ts: a token that changes replaces every resource of that type in existing
 * stacks, so a test must fail when one does.
 */
export const PINNED_TYPES = {
  tenantGuests: "devops-entra-connect:entra:TenantGuests",
  temporaryOwner: "devops-entra-connect:organization:TemporaryOwner",
  directoryConnection: "devops-entra-connect:organization:DirectoryConnection",
  invitation: "azuread:index/invitation:Invitation",
  organizationUser: "pulumi-nodejs:dynamic/devops-entra-connect:OrganizationUser",
  organizationOwner: "pulumi-nodejs:dynamic/devops-entra-connect:OrganizationOwner",
  tenantConnection: "pulumi-nodejs:dynamic/devops-entra-connect:TenantConnection",
} as const;

/** Every input of an invitation: a change of any replaces it, and so deletes the user. */
export const INVITATION_INPUTS = [
  "userEmailAddress",
  "redirectUrl",
  "userDisplayName",
  "userType",
  "message",
];

/**
 * Fails unless `invitation` carries the options every invitation needs: no input of it can replace
 * it (a replacement deletes the user), its redeem URL is a secret, it waits for nothing, and it is
 * retained on delete exactly when `retainOnDelete`.
 */
export function assertInvitationOptions(
  invitation: Registered,
  expected: { readonly retainOnDelete: boolean; readonly parent: string },
): void {
  assert.deepEqual(
    invitation.options,
    {
      retainOnDelete: expected.retainOnDelete,
      ignoreChanges: INVITATION_INPUTS,
      deleteBeforeReplace: false,
      parent: expected.parent,
      dependsOn: [],
      additionalSecretOutputs: ["redeemUrl"],
    },
    invitation.name,
  );
  for (const input of Object.keys(declaredInputs(invitation))) {
    assert.ok(INVITATION_INPUTS.includes(input), `${input} of ${invitation.name} is ignored`);
  }
}

/** What a preview and an update must declare alike: each child's type, name, inputs and options. */
export const declarations = (children: readonly Registered[]): unknown[] =>
  children.map((r) => [r.type, r.name, declaredInputs(r), r.options]);
