/** The emulator's live state and the small questions every handler asks of it. */
import { type Behaviour, effectiveBehaviour } from "./behaviour";
import type { ActiveFault } from "./faults";
import type { AuthScheme, Context } from "./http";
import type { Lag } from "./lag";
import { type TokenGrant, type World, type WorldUser, tokenGrant, tokenPrincipal } from "./world";

export interface RecordedRequest {
  method: string;
  /** Decoded path, without the query string. */
  path: string;
  query: Record<string, string>;
  /** The status the client saw; 0 when the connection was dropped. */
  status: number;
  /** Which Authorization scheme the request carried (not whether it was accepted). */
  auth: AuthScheme;
  /** Present (true) when the connection was dropped instead of answered. */
  dropped?: true;
}

/** What a successful write changed; see {@link Emulator.mutations}. */
export type MutationKind = "owner" | "tenant" | "addUser" | "removeUser" | "mapUser" | "scrubUser";

export interface Mutation {
  kind: MutationKind;
  /**
   * owner: the new owner's principalName; tenant: the tenant id connected to, or the all-zero GUID
   * for a disconnection; addUser / removeUser: the user's principalName; mapUser:
   * "<old principalName> -> <new principalName>" (both the same when the user was mapped to the
   * identity it already had); scrubUser: the principalName of the user a mapping removed because
   * it held the target identity. The users a connection binds are not logged one by one: the
   * "tenant" entry stands for them.
   */
  value: string;
  /** principalName of the caller (its token's principal in `world.tokens`, else `world.caller`). */
  by: string;
}

export interface State {
  world: World;
  pageSize: number;
  url: string;
  faults: ActiveFault[];
  requests: RecordedRequest[];
  mutations: Mutation[];
  onRequest?: (request: RecordedRequest) => void;
  pendingDelays: Set<{ timer: NodeJS.Timeout; resolve: () => void }>;
  lag: Lag;
}

export const ZERO_GUID = "00000000-0000-0000-0000-000000000000";
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The switches in force. */
export function behaviourOf(state: State): Behaviour {
  return effectiveBehaviour(state.world.behaviour);
}

export function samePrincipal(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The grant of the request's token: its `world.tokens` entry, or full access when none is listed. */
export function grantOf(world: World, token: string | undefined): TokenGrant | undefined {
  if (world.tokens === undefined || token === undefined) return undefined;
  return Object.prototype.hasOwnProperty.call(world.tokens, token)
    ? tokenGrant(world.tokens[token])
    : undefined;
}

/** The principal a request acts as: its token's entry in `world.tokens`, else `world.caller`. */
export function callerOf(world: World, ctx: Pick<Context, "token">): string {
  if (world.tokens !== undefined && ctx.token !== undefined) {
    return Object.prototype.hasOwnProperty.call(world.tokens, ctx.token)
      ? tokenPrincipal(world.tokens[ctx.token])
      : world.caller;
  }
  return world.caller;
}

/**
 * The organization user a principal name names. Two users may share one (a Microsoft account and
 * an Entra identity): the first in the world's order is the one roles and tokens refer to.
 */
export function userByPrincipal(world: World, principal: string): WorldUser | undefined {
  return world.users.find((u) => samePrincipal(u.principalName, principal));
}

/** The owner is always a Project Collection Administrator; `administrators` lists the others. */
export function isCollectionAdministrator(world: World, principal: string): boolean {
  return (
    samePrincipal(world.owner, principal) ||
    (world.administrators ?? []).some((a) => samePrincipal(a, principal))
  );
}
