/**
 * Stand-in for the `azuread` provider plugin, for end-to-end runs of the real Pulumi engine: the
 * real provider needs Microsoft Graph, which these machines cannot reach. It speaks the same gRPC
 * protocol (through `@pulumi/pulumi/provider`'s `main`), under the same package name and version as
 * the installed `@pulumi/azuread` SDK, and keeps the tenant in the Azure DevOps emulator's world
 * (its `/_emulator/*` control API), so the program's invokes and the tests see one tenant.
 *
 * Only what the program uses is implemented; anything else fails loudly, so an unexpected call
 * shows up as a test failure instead of a silent success:
 * - resource `azuread:index/invitation:Invitation` (B2B invitation: creates a guest user; delete
 *   removes the whole user, as Graph does);
 * - invokes `getClientConfig`, `getDomains`, `getUsers` (only `returnAll: true`), `getUser`.
 *
 * Started by `bin/pulumi-resource-azuread`, which the harness puts on the CLI's PATH.
 */
import { readFileSync } from "node:fs";
import * as provider from "@pulumi/pulumi/provider";
import {
  externalAddressOf,
  isExternalUpn,
  normalizeWorld,
  tenantUsersMatching,
  type NormalizedTenantUser,
  type NormalizedWorld,
  type TenantUser,
} from "../../emulator/world";
import {
  changedKeys,
  control,
  messageOf,
  readWorld,
  requireString,
  resourceType,
  reveal,
} from "./common";
import { getUsersResult, listedUser } from "../../support/azureadShapes";

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

/** Every Invitation input; the real provider forces a replacement when any of them changes. */
const INVITATION_INPUTS = [
  "userEmailAddress",
  "redirectUrl",
  "userDisplayName",
  "userType",
  "message",
] as const;

/** The version the SDK asks for, so the plugin answers like the real one of that release. */
function sdkVersion(): string {
  const file = require.resolve("@pulumi/azuread/package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

async function tenant(): Promise<NormalizedWorld["tenant"]> {
  return normalizeWorld(await readWorld()).tenant;
}

/** Entra writes an invited alias@domain as `alias_domain#EXT#@<initial domain>`. */
function guestUpn(address: string, domains: readonly string[]): string {
  const initial = domains.find((d) => d.toLowerCase().endsWith(".onmicrosoft.com")) ?? domains[0];
  return `${address.replace("@", "_")}#EXT#@${initial}`;
}

/** A redeem link for the user, shaped like Entra's (the stand-in never serves it). */
function redeemUrlOf(tenantId: string, user: NormalizedTenantUser): string {
  const ticket = Buffer.from(`${tenantId}/${user.objectId}`, "utf8").toString("base64url");
  return `https://login.microsoftonline.com/redeem?rd=${ticket}`;
}

/**
 * Graph's invitation manager: an address that already is an external user (a guest, or a B2B
 * member with an `#EXT#` UPN) gets that user back; one that belongs to a non-external user is
 * refused; anyone else becomes a new user pending acceptance.
 */
async function invite(inputs: Record<string, unknown>): Promise<NormalizedTenantUser> {
  const address = String(inputs.userEmailAddress).trim();
  const userType = (inputs.userType as string | undefined) ?? "Guest";
  const before = await tenant();
  const existing = tenantUsersMatching(before.users, address);
  const internal = existing.find((u) => !isExternalUpn(u.userPrincipalName));
  if (internal !== undefined) {
    throw new Error(
      `creating invitation for ${address}: Non-external user already exists in the directory (${internal.userPrincipalName})`,
    );
  }
  if (existing.length > 0) return existing[0];

  const upn = guestUpn(address, before.domains);
  const user: TenantUser = {
    userPrincipalName: upn,
    mail: address,
    userType: userType === "Member" ? "Member" : "Guest",
    displayName: (inputs.userDisplayName as string | undefined) ?? address,
    externalUserState: "PendingAcceptance",
  };
  const added = await control("POST", "tenant/users", user);
  if (added.status !== 201) {
    throw new Error(
      `creating invitation for ${address}: HTTP ${added.status} ${messageOf(added.body)}`,
    );
  }
  // The object id is the emulator's to assign; read it back as the real provider reads the answer.
  const created = (await tenant()).users.find(
    (u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase(),
  );
  if (created === undefined) {
    throw new Error(`creating invitation for ${address}: the new user ${upn} is not in the tenant`);
  }
  return created;
}

const invitation: provider.Provider = {
  async check(_urn, _olds, news) {
    const failures: provider.CheckFailure[] = [];
    requireString(news, "userEmailAddress", failures);
    requireString(news, "redirectUrl", failures);
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
    const replaces = changedKeys(INVITATION_INPUTS, olds, news, { userType: "Guest" });
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(_urn, inputs) {
    const plain = reveal(inputs) as Record<string, unknown>;
    const user = await invite(plain);
    const tenantId = (await tenant()).id;
    return {
      id: user.objectId,
      outs: {
        ...inputs,
        userType: plain.userType ?? "Guest",
        userId: user.objectId,
        redeemUrl: redeemUrlOf(tenantId, user),
      },
    };
  },

  async read(id, _urn, props) {
    const user = (await tenant()).users.find((u) => u.objectId === id.toLowerCase());
    // Gone from the tenant: an empty id tells the engine the resource no longer exists.
    if (user === undefined) return { id: "", props: {} };
    const state: Record<string, unknown> = { ...(props as object), userId: user.objectId };
    const inputs = Object.fromEntries(
      INVITATION_INPUTS.filter((k) => state[k] !== undefined).map((k) => [k, state[k]]),
    );
    return { id, props: state, inputs };
  },

  async delete(id) {
    // Deleting an invitation deletes the invited user (DOMAIN §2); a user already gone is success.
    const user = (await tenant()).users.find((u) => u.objectId === id.toLowerCase());
    if (user === undefined) return;
    const res = await control(
      "DELETE",
      `tenant/users/${encodeURIComponent(user.userPrincipalName)}`,
    );
    if (res.status !== 204 && res.status !== 404) {
      throw new Error(
        `deleting invited user ${user.userPrincipalName}: HTTP ${res.status} ${messageOf(res.body)}`,
      );
    }
  },
};

async function invoke(token: string, rawInputs: unknown): Promise<provider.InvokeResult> {
  const inputs = (reveal(rawInputs) ?? {}) as Record<string, unknown>;
  const t = await tenant();
  switch (token) {
    case INVOKES.getClientConfig: {
      const signedIn = process.env[SIGNED_IN_TENANT_ENV]?.trim() || t.id;
      const clientId = "00000000-0000-0000-0000-0000000000c1";
      const objectId = "00000000-0000-0000-0000-0000000000c2";
      return {
        outputs: {
          id: `${clientId}-${objectId}-${signedIn}`,
          clientId,
          objectId,
          tenantId: signedIn,
        },
      };
    }
    case INVOKES.getDomains: {
      // Every domain of the emulated tenant is verified; the first is the default one.
      let domains = t.domains.map((d, i) => ({
        adminManaged: true,
        authenticationType: "Managed",
        default: i === 0,
        domainName: d,
        initial: d.toLowerCase().endsWith(".onmicrosoft.com"),
        root: true,
        supportedServices: ["Email"],
        verified: true,
      }));
      if (inputs.onlyDefault === true) domains = domains.filter((d) => d.default);
      if (inputs.onlyInitial === true) domains = domains.filter((d) => d.initial);
      return { outputs: { ...inputs, id: `domains-${t.id}`, domains } };
    }
    case INVOKES.getUsers: {
      // The program must scan the tenant once; a per-address lookup costs a Graph call per user.
      if (inputs.returnAll !== true) {
        throw new Error(
          `the azuread stand-in answers getUsers only with returnAll: true (got ${JSON.stringify(inputs)})`,
        );
      }
      return { outputs: getUsersResult(t.users) };
    }
    case INVOKES.getUser: {
      const wanted = ["objectId", "userPrincipalName", "mail"].find(
        (k) => typeof inputs[k] === "string",
      );
      if (wanted === undefined) {
        throw new Error("getUser: one of objectId, userPrincipalName or mail must be specified");
      }
      const value = String(inputs[wanted]).toLowerCase();
      const user = t.users.find((u) =>
        wanted === "objectId"
          ? u.objectId === value
          : wanted === "mail"
            ? u.mail?.toLowerCase() === value
            : u.userPrincipalName.toLowerCase() === value,
      );
      if (user === undefined) {
        throw new Error(`User not found with ${wanted}: "${String(inputs[wanted])}"`);
      }
      return {
        outputs: {
          ...listedUser(user),
          id: user.objectId,
          userType: user.userType,
          externalUserState:
            user.userType === "Guest" || isExternalUpn(user.userPrincipalName)
              ? user.externalUserState
              : "",
          // The invited address of an external user, as Graph lists it among otherMails.
          otherMails: [externalAddressOf(user.userPrincipalName)].filter(
            (m): m is string => m !== undefined,
          ),
        },
      };
    }
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
    const impl = type === INVITATION ? invitation[method] : undefined;
    if (impl === undefined) {
      return Promise.reject(
        new Error(`the azuread stand-in does not implement ${method} for ${type || urn}`),
      );
    }
    return (impl as (...a: unknown[]) => Promise<unknown>)(...args);
  }) as NonNullable<provider.Provider[K]>;
}

const azuread: provider.Provider = {
  version: sdkVersion(),
  check: byType("check"),
  diff: byType("diff"),
  create: byType("create"),
  read: byType("read"),
  update: byType("update"),
  delete: byType("delete"),
  invoke,
};

void provider.main(azuread, process.argv.slice(2));
