/**
 * `/_emulator/*`, the control API other tooling drives (the end-to-end stand-ins, the demo):
 * faults, requests, mutations, world, behaviour, clock; `POST signin {"principalName"}`,
 * `POST redeem {"address"}`, `POST tenant/users <TenantUser>`, `PATCH tenant/users/{upnOrMail}`
 * `{changes}`, `DELETE tenant/users/{upnOrMail}`, `POST tokens {"token", "principalName"}`.
 * Errors answer `{"message"}` with 400 (bad input), 404 (unknown user) or 409 (conflict).
 * Existing endpoints and fields never change; new ones are added.
 */
import { effectiveBehaviour, validateBehaviour } from "./behaviour";
import {
  EditError,
  addTenantUser,
  addToken,
  redeem,
  removeTenantUser,
  signIn,
  updateTenantUser,
} from "./edits";
import { faultRuleFromJson, faultRuleToJson } from "./faults";
import { asObject } from "./http";
import { advanceClock, now, resetLag } from "./lag";
import type { State } from "./state";
import type { Reply } from "./http";
import { validateWorld } from "./world";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Replaces the live world (validated); what was pending in time is forgotten. */
export function replaceWorld(state: State, raw: unknown): void {
  state.world = validateWorld(raw);
  resetLag(state.lag);
}

/** Replaces the switches (absent ones take their defaults), or merges them into those in force. */
export function setBehaviour(state: State, raw: unknown, merge: boolean): void {
  const given = validateBehaviour(raw, "behaviour");
  state.world.behaviour = merge ? { ...state.world.behaviour, ...given } : given;
}

function tenantUserPath(segments: string[]): string | undefined {
  return segments.length === 3 && `${segments[0]}/${segments[1]}`.toLowerCase() === "tenant/users"
    ? segments[2]
    : undefined;
}

export function control(
  state: State,
  method: string,
  segments: string[],
  body: Buffer | undefined,
): Reply {
  const fail = (status: number, message: string): Reply => ({ status, body: { message } });
  const json = (): unknown => {
    if (body === undefined) {
      throw new Error(`request body larger than ${MAX_BODY_BYTES} bytes`);
    }
    return JSON.parse(body.toString("utf8").replace(/^\uFEFF/, ""));
  };
  const resource = `${method} ${segments.join("/").toLowerCase()}`;
  const field = (name: string): unknown => asObject(json())?.[name];
  try {
    const upnOrMail = tenantUserPath(segments);
    if (method === "DELETE" && upnOrMail !== undefined) {
      removeTenantUser(state, upnOrMail);
      return { status: 204 };
    }
    if (method === "PATCH" && upnOrMail !== undefined) {
      return { status: 200, body: updateTenantUser(state, upnOrMail, json()) };
    }
    switch (resource) {
      case "POST faults": {
        const rule = faultRuleFromJson(json());
        state.faults.push({ rule, remaining: rule.times ?? 1 });
        return { status: 201, body: { pending: state.faults.length } };
      }
      case "GET faults":
        return { status: 200, body: state.faults.map(faultRuleToJson) };
      case "DELETE faults":
        state.faults.length = 0;
        return { status: 204 };
      case "GET requests":
        return { status: 200, body: state.requests };
      case "DELETE requests":
        state.requests.length = 0;
        return { status: 204 };
      case "GET world":
        return { status: 200, body: state.world };
      case "PUT world":
        replaceWorld(state, json());
        return { status: 200, body: state.world };
      case "GET behaviour":
        return { status: 200, body: effectiveBehaviour(state.world.behaviour) };
      case "PUT behaviour":
      case "PATCH behaviour":
        setBehaviour(state, json(), method === "PATCH");
        return { status: 200, body: effectiveBehaviour(state.world.behaviour) };
      case "GET clock":
        return {
          status: 200,
          body: { now: new Date(now(state)).toISOString(), offsetMs: state.lag.clockOffsetMs },
        };
      case "POST clock":
        advanceClock(state, field("advanceMs") as number);
        return {
          status: 200,
          body: { now: new Date(now(state)).toISOString(), offsetMs: state.lag.clockOffsetMs },
        };
      case "GET mutations":
        return { status: 200, body: state.mutations };
      case "DELETE mutations":
        state.mutations.length = 0;
        return { status: 204 };
      case "POST signin":
        return { status: 200, body: signIn(state, field("principalName")) };
      case "POST redeem":
        return { status: 200, body: redeem(state, field("address")) };
      case "POST tenant/users":
        return { status: 201, body: addTenantUser(state, json()) };
      case "POST tokens":
        addToken(state, field("token"), field("principalName"));
        // The token is not echoed: the answer names only whom it authenticates.
        return { status: 201, body: { principalName: field("principalName") } };
      default:
        return fail(404, `no control endpoint ${method} /_emulator/${segments.join("/")}`);
    }
  } catch (err) {
    return fail(err instanceof EditError ? err.status : 400, (err as Error).message);
  }
}
