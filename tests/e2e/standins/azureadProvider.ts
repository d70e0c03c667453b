/**
 * Stand-in for the `azuread` provider plugin, for end-to-end runs of the real Pulumi engine: the
 * real provider needs Microsoft Graph, which these machines cannot reach. It speaks the same gRPC
 * protocol (served by `azuread.ts` through `@pulumi/pulumi/provider`'s `main`), under the same
 * package name and version as the installed `@pulumi/azuread` SDK, and keeps the tenant in the
 * Azure DevOps emulator's world (its `/_emulator/*` control API), so the program's invokes and the
 * tests see one tenant.
 *
 * The behaviour is the real provider's (tests/support/entraGraph.ts for the Invitation lifecycle,
 * tests/support/azureadShapes.ts for the invokes; docs/test-doubles.md lists the rules).
 * Scenarios turn its load-bearing guesses with env vars: {@link GRAPH_SWITCH_ENV},
 * {@link SIGNED_IN_TENANT_ENV} and {@link UNVERIFIED_ENV}.
 */
import { readFileSync } from "node:fs";
import type * as provider from "@pulumi/pulumi/provider";
import {
  clientConfigResult,
  domainsResult,
  getUserResult,
  getUsersResult,
  requireReturnAll,
} from "../../support/azureadShapes";
import {
  GRAPH_SWITCH_ENV,
  INVITATION_DEFAULTS,
  INVITATION_INPUTS,
  InvitationInitError,
  type InvitationState,
  createInvitation,
  deleteInvitation,
  graphSwitchesFromEnv,
  invitationInputsOf,
  readInvitation,
} from "../../support/entraGraph";
import { changedKeys, readWorld, requireString, resourceType, reveal } from "./common";
import { controlTenantStore } from "./controlStore";

export { GRAPH_SWITCH_ENV };

export const INVITATION = "azuread:index/invitation:Invitation";
export const INVOKES = {
  getClientConfig: "azuread:index/getClientConfig:getClientConfig",
  getDomains: "azuread:index/getDomains:getDomains",
  getUsers: "azuread:index/getUsers:getUsers",
  getUser: "azuread:index/getUser:getUser",
} as const;

/**
 * Test seam: the tenant the stand-in says it is signed in to (`getClientConfig`), to exercise the
 * program's wrong-tenant refusal. Unset, it is the emulated tenant's id.
 */
export const SIGNED_IN_TENANT_ENV = "E2E_AZUREAD_SIGNED_IN_TENANT";
/** Comma-separated domains of the world that are not verified (default: all are verified). */
export const UNVERIFIED_ENV = "E2E_AZUREAD_UNVERIFIED";

/** The version the SDK asks for, so the plugin answers like the real one of that release. */
function sdkVersion(): string {
  const file = require.resolve("@pulumi/azuread/package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/** A check failure when a present, known value does not have the form the provider validates. */
function requireForm(
  inputs: Record<string, unknown>,
  key: string,
  form: RegExp,
  what: string,
  failures: provider.CheckFailure[],
): void {
  const value = reveal(inputs[key]);
  if (typeof value === "string" && value.trim() !== "" && !form.test(value.trim())) {
    failures.push({ property: key, reason: `expected ${key} to be ${what}, got ${value}` });
  }
}

/** The state the provider keeps, from the engine's (possibly secret-wrapped) outputs. */
function stateOf(props: Record<string, unknown>): InvitationState {
  const plain = reveal(props) as Record<string, unknown>;
  return {
    userEmailAddress: String(plain.userEmailAddress ?? ""),
    userType: String(plain.userType ?? "Guest"),
    userId: String(plain.userId ?? ""),
    redeemUrl: String(plain.redeemUrl ?? ""),
  };
}

/**
 * The engine's outputs for a provider state: the raw inputs (secret markers survive), with what
 * the provider computed or read back over them. The address stays the raw input unless Graph's
 * mail differs from it.
 */
function outputsOf(raw: Record<string, unknown>, state: InvitationState): Record<string, unknown> {
  const sameAddress = reveal(raw.userEmailAddress) === state.userEmailAddress;
  return {
    ...raw,
    userEmailAddress: sameAddress ? raw.userEmailAddress : state.userEmailAddress,
    userType: state.userType,
    userId: state.userId,
    redeemUrl: state.redeemUrl,
  };
}

const invitation: provider.Provider = {
  async check(_urn, _olds, news) {
    const failures: provider.CheckFailure[] = [];
    // rule Z2 [doc] hashicorp/terraform-provider-azuread internal/services/invitations/invitation_resource.go schema (@pulumi/azuread invitation.d.ts): user_email_address and redirect_url required, an e-mail address and an http(s) URL; user_type Guest or Member (the failure texts are ours)
    requireString(news, "userEmailAddress", failures);
    requireString(news, "redirectUrl", failures);
    requireForm(news, "userEmailAddress", /^[^@\s]+@[^@\s]+$/, "a valid email address", failures);
    requireForm(news, "redirectUrl", /^https?:\/\/[^/\s]+/i, "an http or https URL", failures);
    const userType = reveal(news.userType);
    if (typeof userType === "string" && !["Guest", "Member"].includes(userType)) {
      failures.push({
        property: "userType",
        reason: `expected userType to be one of ["Guest" "Member"], got ${userType}`,
      });
    }
    // The raw news go back unchanged so that secret markers survive into the state.
    return { inputs: news, failures };
  },

  async diff(_id, _urn, olds, news) {
    const replaces = changedKeys(INVITATION_INPUTS, olds, news, INVITATION_DEFAULTS);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(_urn, inputs) {
    const invited = invitationInputsOf(reveal(inputs) as Record<string, unknown>);
    try {
      const { id, state } = await createInvitation(
        controlTenantStore(),
        invited,
        graphSwitchesFromEnv(),
      );
      return { id, outs: outputsOf(inputs, state) };
    } catch (err) {
      // The provider server packs `id`, `properties` and `reasons` into ErrorResourceInitFailed.
      if (err instanceof InvitationInitError) {
        throw Object.assign(new Error(err.message), {
          id: err.id,
          properties: outputsOf(inputs, err.properties),
          reasons: err.reasons,
        });
      }
      throw err;
    }
  },

  async read(id, _urn, props) {
    const old = (props ?? {}) as Record<string, unknown>;
    const state = outputsOf(old, await readInvitation(controlTenantStore(), stateOf(old)));
    // A refresh takes the inputs from what was read (the bridge extracts them from the state).
    const inputs = Object.fromEntries(
      INVITATION_INPUTS.filter((k) => state[k] !== undefined).map((k) => [k, state[k]]),
    );
    return { id, props: state, inputs };
  },

  // rule Z30 [guess] the engine updates a resource whose create failed to initialize (Z29); with no input changed the bridged provider is taken to keep the state as it is
  async update(_id, _urn, olds) {
    return { outs: olds };
  },

  async delete(_id, _urn, props) {
    await deleteInvitation(controlTenantStore(), stateOf(props as Record<string, unknown>));
  },
};

/** The domains a scenario declared unverified, lower case. */
function unverifiedDomains(): Set<string> {
  const listed = process.env[UNVERIFIED_ENV] ?? "";
  return new Set(
    listed
      .split(",")
      .map((d) => d.trim().toLowerCase())
      .filter((d) => d !== ""),
  );
}

async function invoke(token: string, rawInputs: unknown): Promise<provider.InvokeResult> {
  const inputs = (reveal(rawInputs) ?? {}) as Record<string, unknown>;
  // rule Z34 [guess] outside an invitation's create, Graph reads see every user at once: no replication lag for invokes and refreshes
  const tenant = (await readWorld()).tenant;
  switch (token) {
    case INVOKES.getClientConfig:
      return {
        outputs: clientConfigResult(process.env[SIGNED_IN_TENANT_ENV]?.trim() || tenant.id),
      };
    case INVOKES.getDomains:
      return { outputs: domainsResult(tenant, inputs, unverifiedDomains()) };
    case INVOKES.getUsers:
      requireReturnAll(inputs);
      return { outputs: getUsersResult(tenant) };
    case INVOKES.getUser:
      return { outputs: getUserResult(tenant, inputs) };
    default:
      throw new Error(`the azuread stand-in does not implement the function ${token}`);
  }
}

/** Dispatches resource calls by type token (the URN carries it); other types are refused. */
function byType<K extends "check" | "diff" | "create" | "read" | "update" | "delete">(
  method: K,
): NonNullable<provider.Provider[K]> {
  return ((...args: unknown[]) => {
    const urn = String(method === "check" || method === "create" ? args[0] : args[1]);
    const type = resourceType(urn);
    // rule Z1 [guess] fail-closed design, not a service rule: only Invitation and the four invokes the program uses are implemented; anything else fails
    const impl = type === INVITATION ? invitation[method] : undefined;
    if (impl === undefined) {
      return Promise.reject(
        new Error(`the azuread stand-in does not implement ${method} for ${type || urn}`),
      );
    }
    return (impl as (...a: unknown[]) => Promise<unknown>)(...args);
  }) as NonNullable<provider.Provider[K]>;
}

export const azureadProvider: provider.Provider = {
  version: sdkVersion(),
  check: byType("check"),
  diff: byType("diff"),
  create: byType("create"),
  read: byType("read"),
  update: byType("update"),
  delete: byType("delete"),
  invoke,
};
