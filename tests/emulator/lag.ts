/**
 * Time in the emulator: what Azure DevOps sees late. Changes made in Entra, a new connection, an
 * owner change and a mapping can each reach the readers later than the write (behaviour switches
 * `entraPropagationMs`, `connectionPropagationMs`, `tenantHeader`, `ownerChange`,
 * `mappingVisibilityMs`). The clock is the wall clock plus an offset a test can advance
 * (`POST /_emulator/clock`), so a test asserts what is visible before and after, never a duration.
 */
import { behaviourOf, samePrincipal, type State } from "./state";
import { type TenantUser, type WorldUser, userIdOf } from "./world";

interface TenantSnapshot {
  /** When this state of the tenant came about (−Infinity: before the first recorded change). */
  at: number;
  users: TenantUser[];
}

export interface Lag {
  clockOffsetMs: number;
  /** States of the tenant after each change made over the control API, oldest first. */
  tenantHistory: TenantSnapshot[];
  /** The last connection or disconnection: the tenant before it, and when. */
  connection?: { previous: string | null; at: number };
  /** An accepted owner change not applied yet ("delayed"). */
  pendingOwner?: { to: string; at: number };
  /** Mapped users whose readers still see them as before, by user id. */
  pendingMappings: Map<string, { before: WorldUser; at: number }>;
}

export function newLag(): Lag {
  return { clockOffsetMs: 0, tenantHistory: [], pendingMappings: new Map() };
}

/** Forgets what was pending (a new world replaces the old); the clock keeps its offset. */
export function resetLag(lag: Lag): void {
  lag.tenantHistory = [];
  lag.connection = undefined;
  lag.pendingOwner = undefined;
  lag.pendingMappings.clear();
}

export function now(state: State): number {
  return Date.now() + state.lag.clockOffsetMs;
}

export function advanceClock(state: State, ms: number): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new Error(`advanceClock: ms must be a number >= 0 (got ${JSON.stringify(ms)})`);
  }
  state.lag.clockOffsetMs += ms;
  return state.lag.clockOffsetMs;
}

// rule O16 [deviates] Entra changes reach Azure DevOps at once by default, the best case of what Microsoft documents (up to 1 hour, and hours or days for a guest made member), because tests cannot wait the real lag out; behaviour entraPropagationMs shows Azure DevOps the tenant as it was (https://learn.microsoft.com/azure/devops/organizations/accounts/faq-azure-access)
/**
 * Runs a change of the tenant made in Entra (over the control API). With a propagation delay, the
 * state before and after is kept, so that Azure DevOps can be shown the tenant as it was.
 */
export function recordTenantEdit<T>(state: State, edit: () => T): T {
  if (behaviourOf(state).entraPropagationMs <= 0) {
    state.lag.tenantHistory = [];
    return edit();
  }
  const history = state.lag.tenantHistory;
  if (history.length === 0) {
    history.push({ at: -Infinity, users: structuredClone(state.world.tenant.users) });
  }
  const result = edit();
  history.push({ at: now(state), users: structuredClone(state.world.tenant.users) });
  return result;
}

/**
 * A tenant user Azure DevOps itself created (an external user added to a connected organization
 * becomes a B2B guest): it sees it at once, so every kept state gets it too.
 */
export function addTenantUserSeenAtOnce(state: State, user: TenantUser): void {
  state.world.tenant.users.push(user);
  for (const snapshot of state.lag.tenantHistory) {
    snapshot.users.push(structuredClone(user));
  }
}

/** The tenant users Azure DevOps sees now: the live ones, or an older state while changes propagate. */
export function devopsTenantUsers(state: State): readonly TenantUser[] {
  const delay = behaviourOf(state).entraPropagationMs;
  const history = state.lag.tenantHistory;
  if (delay <= 0 || history.length === 0) {
    return state.world.tenant.users;
  }
  const horizon = now(state) - delay;
  let visible = 0;
  for (let i = 0; i < history.length; i++) {
    if (history[i].at <= horizon) visible = i;
  }
  if (visible === history.length - 1) {
    // Everything has propagated: the live tenant, with any edit a test made in place.
    state.lag.tenantHistory = [];
    return state.world.tenant.users;
  }
  history.splice(0, visible); // older states can no longer be seen
  return history[0].users;
}

/** Notes a connection or disconnection, for the readers that report it late. */
export function recordConnection(state: State, previous: string | null): void {
  state.lag.connection = { previous, at: now(state) };
}

function since(state: State): number {
  return state.lag.connection === undefined ? Infinity : now(state) - state.lag.connection.at;
}

// rule O21 [guess] Organization/Collections/Me reports a new connection at once; behaviour connectionPropagationMs makes it report the previous tenant for a while (the portal's own delay is unknown; the FAQ's "up to 1 hour" is about Entra changes)
/** The tenant `Organization/Collections/Me` reports. */
export function reportedTenant(state: State): string | null {
  const delay = behaviourOf(state).connectionPropagationMs;
  const connection = state.lag.connection;
  return connection !== undefined && since(state) < delay
    ? connection.previous
    : state.world.tenantId;
}

// rule O19 [guess] X-VSS-ResourceTenant is sent on every answer of /{org}, and follows a connection at once; behaviour tenantHeader makes it absent, or missing until tenantHeaderDelayMs after the connection (no public capture of the header right after a connection)
/** The value of `X-VSS-ResourceTenant`, or undefined when the header is not sent now. */
export function tenantHeaderValue(state: State, zeroGuid: string): string | undefined {
  const behaviour = behaviourOf(state);
  if (behaviour.tenantHeader === "absent") return undefined;
  if (behaviour.tenantHeader === "late" && since(state) < behaviour.tenantHeaderDelayMs) {
    return undefined;
  }
  return state.world.tenantId ?? zeroGuid;
}

/** Schedules an accepted owner change. */
export function scheduleOwner(state: State, to: string): void {
  state.lag.pendingOwner = { to, at: now(state) + behaviourOf(state).ownerChangeDelayMs };
}

/** Applies what has come due: a delayed owner change. Called before every request and read. */
export function settle(state: State): void {
  const pending = state.lag.pendingOwner;
  if (pending !== undefined && now(state) >= pending.at) {
    state.lag.pendingOwner = undefined;
    if (state.world.users.some((u) => samePrincipal(u.principalName, pending.to))) {
      state.world.owner = pending.to;
    }
  }
}

/** Keeps what readers see of a user until a mapping becomes visible. */
export function holdMapping(state: State, before: WorldUser): void {
  const delay = behaviourOf(state).mappingVisibilityMs;
  if (delay <= 0) return;
  state.lag.pendingMappings.set(userIdOf(before), {
    before: structuredClone(before),
    at: now(state) + delay,
  });
}

// rule MP10 [guess] A mapping is visible in the entitlement and graph reads at once; behaviour mappingVisibilityMs keeps the previous identity visible for a while (the program reads the binding back right after mapping; nothing public shows how soon the service reports it)
/** The users as the entitlement and graph reads show them now. */
export function visibleUsers(state: State, users: readonly WorldUser[]): WorldUser[] {
  const pending = state.lag.pendingMappings;
  if (pending.size === 0) return [...users];
  const t = now(state);
  return users.map((u) => {
    const held = pending.get(userIdOf(u));
    if (held === undefined) return u;
    if (t >= held.at) {
      pending.delete(userIdOf(u));
      return u;
    }
    return held.before;
  });
}
