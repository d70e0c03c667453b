/**
 * An Azure DevOps emulator: a real HTTP server on loopback that answers the REST calls the program
 * makes, from a `World` fixture, with Microsoft's response and error shapes.
 *
 * All Azure DevOps hosts (dev.azure.com, vssps.dev.azure.com, vsaex.dev.azure.com,
 * app.vssps.visualstudio.com, azdevopscommerce.dev.azure.com), and Azure Resource Manager's
 * subscription challenge (management.azure.com), are collapsed into one base URL; the paths are the
 * real ones, so the program only rewrites the origin. Tests can inject faults (throttling, errors,
 * latency, lost answers), set the behaviour switches (behaviour.ts) and read back every request,
 * in-process or over the `/_emulator/*` control endpoints (control.ts).
 *
 * Each behaviour rule carries a `// rule <id> [<class>] <source>` tag; docs/test-doubles.md lists
 * them and `npm run fidelity` counts them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkApiVersion } from "./apiVersion";
import { type ScopeRequirement, anonymousChallenge, authenticate, signInPage } from "./auth";
import { type Behaviour, effectiveBehaviour, validateBehaviour } from "./behaviour";
import { armSubscription, billingSetup } from "./billing";
import { MAX_BODY_BYTES, control, replaceWorld } from "./control";
import {
  addTenantUser,
  addToken,
  redeem,
  removeTenantUser,
  signIn,
  updateTenantUser,
} from "./edits";
import {
  addEntitlement,
  decodeToken,
  deleteEntitlement,
  encodeToken,
  getEntitlement,
  listEntitlements,
  readView,
} from "./entitlements";
import { ERRORS, type Headers, HttpError, vssErrorBody } from "./errors";
import {
  type ActiveFault,
  type FaultEffect,
  type FaultRule,
  checkFaultRule,
  faultEffect,
  takeFault,
} from "./faults";
import {
  type Context,
  type Credentials,
  type Reply,
  ReplyError,
  type Version,
  queryParam,
  readCredentials,
} from "./http";
import { advanceClock, newLag, now, reportedTenant, settle, tenantHeaderValue } from "./lag";
import { mapUser } from "./mapping";
import { changeOwner, connectTenant } from "./organization";
import {
  collectionBody,
  descriptorOf,
  findProject,
  graphSubjectNotFound,
  graphUser,
  locations,
  profileBody,
  projectBody,
  projectReference,
  resourceAreas,
} from "./resources";
import {
  GUID,
  type Mutation,
  type MutationKind,
  type RecordedRequest,
  type State,
  ZERO_GUID,
  behaviourOf,
  callerOf,
  grantOf,
  userByPrincipal,
} from "./state";
import {
  type TenantUser,
  type World,
  type WorldUser,
  defaultUserId,
  normalizeWorld,
  validateWorld,
} from "./world";

export type { FaultRule, Mutation, MutationKind, RecordedRequest };

export interface EmulatorOptions {
  /** The world to serve. It is validated and copied: the emulator never mutates the caller's object. */
  world: World;
  /** TCP port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Page size of user entitlements and graph users; default 100. Projects page with `$top`. */
  pageSize?: number;
  /** Called once per recorded request, after it is answered (the CLI logs with it). */
  onRequest?: (request: RecordedRequest) => void;
}

export interface Emulator {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Live state: the requests change it, tests may edit it in place; assigning validates a copy. */
  world: World;
  /**
   * The switches in force (defaults filled in). Assigning validates and replaces those the world
   * sets; the world's `behaviour` holds them, so `GET /_emulator/world` shows them too.
   */
  get behaviour(): Behaviour;
  set behaviour(switches: Partial<Behaviour>);
  /** Every non-control request, in order of completion; cleared in place by `resetRequests`. */
  requests: RecordedRequest[];
  /**
   * Every successful write through the REST API (owner change, connect/disconnect, entitlement add
   * and delete, identity mapping, a user a mapping scrubbed), in order, so a test can assert that
   * nothing was done twice. Control-API edits and requests faulted before the service are not
   * logged. Cleared in place by `resetMutations`, not by assigning `world`.
   */
  mutations: Mutation[];
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  resetRequests(): void;
  resetMutations(): void;
  /**
   * Records that an organization user signed in now: sets `lastAccessedDate` (and a pending user
   * becomes active). Ownership can only move to a user who signed in once. Throws for an unknown or
   * disabled user. Returns a copy of the user.
   */
  signIn(principalName: string): WorldUser;
  /**
   * The invited person redeems their B2B invitation: the tenant user whose UPN, mail or invited
   * address (inside a guest UPN) is `address` becomes `externalUserState: "Accepted"`. Throws when
   * none matches. Returns a copy of the tenant user.
   */
  redeem(address: string): TenantUser;
  /** Adds a tenant user (validated; UPN and object id must be new). Returns a copy. */
  addTenantUser(user: TenantUser): TenantUser;
  /** Removes the tenant user with that UPN, else that mail. Throws when none. Returns it. */
  removeTenantUser(upnOrMail: string): TenantUser;
  /**
   * An administrator changes a tenant user in Entra (its userType, accountEnabled, …): the user
   * with that UPN, else that mail. Azure DevOps may see it late (`entraPropagationMs`).
   */
  updateTenantUser(upnOrMail: string, changes: Partial<TenantUser>): TenantUser;
  /**
   * A person creates a personal access token: from now on `token` authenticates as `principalName`
   * (an entry of `world.tokens`, created when absent). Returns the principal.
   */
  addToken(token: string, principalName: string): string;
  /**
   * Moves the emulator's clock forward, so that what is delayed (propagation, a late header, a
   * delayed owner change, a late mapping) comes due without waiting. Returns the total offset.
   */
  advanceClock(ms: number): number;
  close(): Promise<void>;
}

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
/** What a raw-text answer is sent as unless it says otherwise: a web page. */
const TEXT_CONTENT_TYPE = "text/html; charset=utf-8";

// ---------------------------------------------------------------------------------------------
// Routing.

interface Route {
  method: string;
  /** Segments; `{name}` captures one segment. */
  pattern: string[];
  /**
   * Whether the route needs a credential, and which scopes: undefined = anonymous; "any" = any
   * accepted token; otherwise what {@link authenticate} checks.
   */
  auth: ScopeRequirement | "any" | undefined;
  /**
   * null: no api-version needed (discovery). Otherwise the highest version the resource has
   * released: a higher version without "-preview" is refused, as the service refuses it; undefined
   * accepts any well-formed version up to the latest.
   */
  apiVersion: { released?: Version } | null;
  handle(ctx: Context, credentials: Credentials): Reply;
}

function route(
  method: string,
  path: string,
  auth: Route["auth"],
  apiVersion: Route["apiVersion"],
  handle: Route["handle"],
): Route {
  return { method, pattern: path.split("/").filter((s) => s !== ""), auth, apiVersion, handle };
}

// rule T1 [obs] Route literals match case-insensitively (Collections/Me = collections/me) (microsoft/terraform-provider-azuredevops sdk organization client.go uses Collections/me; Microsoft365DSC MSFT_ADOOrganizationOwner.psm1 uses Collections/Me)
function matchPattern(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith("{") && p.endsWith("}")) {
      params[p.slice(1, -1)] = segments[i];
    } else if (p.toLowerCase() !== segments[i].toLowerCase()) {
      return undefined;
    }
  }
  return params;
}

/** Graph and project lists page through a response header; absent on the last page. */
function continuationHeader(token: string | undefined): Headers {
  return token === undefined ? {} : { "X-MS-ContinuationToken": token };
}

function positiveInteger(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
): number {
  if (value === undefined || value === "") {
    return fallback;
  }
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new HttpError(
      400,
      ERRORS.invalidArgument,
      `The value '${value}' of query parameter ${name} is not valid: expected an integer >= ${min}.`,
    );
  }
  return Number(value);
}

// ---------------------------------------------------------------------------------------------
// The server.

/** Starts an emulator on 127.0.0.1. Close it with `close()` (tests: in an `after` hook). */
export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const pageSize = opts.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new Error(`startEmulator: pageSize must be an integer >= 1 (got ${pageSize})`);
  }
  const state: State = {
    world: validateWorld(opts.world),
    pageSize,
    url: "",
    faults: [],
    requests: [],
    mutations: [],
    onRequest: opts.onRequest,
    pendingDelays: new Set(),
    lag: newLag(),
  };
  const routes = buildRoutes(state);

  const server = createServer((req, res) => {
    handle(state, routes, req, res).catch((err: unknown) => {
      // Only reached if writing the answer itself failed; the socket is likely gone.
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end(String(err));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${port}`;
  return emulatorHandle(state, server);
}

function emulatorHandle(state: State, server: ReturnType<typeof createServer>): Emulator {
  let closing: Promise<void> | undefined;
  return {
    url: state.url,
    get world(): World {
      settle(state);
      return state.world;
    },
    set world(world: World) {
      replaceWorld(state, world);
    },
    get behaviour(): Behaviour {
      return effectiveBehaviour(state.world.behaviour);
    },
    set behaviour(behaviour: Partial<Behaviour>) {
      state.world.behaviour = validateBehaviour(behaviour, "behaviour");
    },
    requests: state.requests,
    mutations: state.mutations,
    injectFault(rule: FaultRule): void {
      const checked = checkFaultRule(rule);
      state.faults.push({ rule: checked, remaining: checked.times ?? 1 } satisfies ActiveFault);
    },
    clearFaults(): void {
      state.faults.length = 0;
    },
    resetRequests(): void {
      state.requests.length = 0;
    },
    resetMutations(): void {
      state.mutations.length = 0;
    },
    signIn: (principalName: string): WorldUser => signIn(state, principalName),
    redeem: (address: string): TenantUser => redeem(state, address),
    addTenantUser: (user: TenantUser): TenantUser => addTenantUser(state, user),
    removeTenantUser: (upnOrMail: string): TenantUser => removeTenantUser(state, upnOrMail),
    updateTenantUser: (upnOrMail: string, changes: Partial<TenantUser>): TenantUser =>
      updateTenantUser(state, upnOrMail, changes),
    addToken: (token: string, principalName: string): string =>
      addToken(state, token, principalName),
    advanceClock: (ms: number): number => advanceClock(state, ms),
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const pending of state.pendingDelays) {
          clearTimeout(pending.timer);
          pending.resolve();
        }
        state.pendingDelays.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // fetch keeps connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function delay(state: State, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const pending = {
      timer: setTimeout(() => {
        state.pendingDelays.delete(pending);
        resolve();
      }, ms),
      resolve,
    };
    state.pendingDelays.add(pending);
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Headers = { ...reply.headers };
  let payload: Buffer | undefined;
  if (reply.status !== 204 && reply.status !== 304) {
    if (reply.text !== undefined) {
      payload = Buffer.from(reply.text, "utf8");
      headers["Content-Type"] = reply.contentType ?? TEXT_CONTENT_TYPE;
    } else if (reply.body !== undefined) {
      payload = Buffer.from(JSON.stringify(reply.body), "utf8");
      headers["Content-Type"] = JSON_CONTENT_TYPE;
    }
  }
  headers["Content-Length"] = String(payload?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** The decoded path segments, or undefined for bad %-encoding. */
function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

async function handle(
  state: State,
  routes: Route[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  settle(state);
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://emulator.invalid");
  const segments = pathSegments(url.pathname);
  if (segments === undefined) {
    // rule T6 [guess] A path with bad %-encoding answers 400 InvalidArgumentValueException
    send(res, {
      status: 400,
      body: vssErrorBody(ERRORS.invalidArgument, "The request path is not valid URL encoding."),
    });
    return;
  }
  const path = `/${segments.join("/")}`;
  const body = await readBody(req);

  if (segments[0]?.toLowerCase() === "_emulator") {
    send(res, control(state, method, segments.slice(1), body));
    return;
  }

  const credentials = readCredentials(req.headers);
  const record = (reply: Reply | "dropped"): void => {
    const recorded: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      status: reply === "dropped" ? 0 : reply.status,
      auth: credentials.scheme,
      ...(reply === "dropped" ? { dropped: true as const } : {}),
    };
    state.requests.push(recorded);
    state.onRequest?.(recorded);
    if (reply === "dropped") {
      // rule F6 [guess] A fault with drop closes the connection without an answer, as a failing front door or network does
      res.socket?.destroy();
    } else {
      send(res, reply);
    }
  };

  const rule = takeFault(state.faults, method, path);
  const effect = rule === undefined ? undefined : faultEffect(rule, now(state));
  if (effect !== undefined && effect.delayMs > 0) {
    await delay(state, effect.delayMs);
  }
  if (effect !== undefined && !effect.afterCommit && (effect.drop || effect.reply !== undefined)) {
    record(effect.drop ? "dropped" : (effect.reply as Reply));
    return;
  }
  if (body === undefined) {
    // rule T7 [guess] A body larger than 1 MiB answers 413 VssRequestContentTooLargeException
    record({
      status: 413,
      body: vssErrorBody(
        ERRORS.requestTooLarge,
        `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
      ),
    });
    return;
  }
  const ctx: Context = {
    method,
    segments,
    params: {},
    query: url.searchParams,
    headers: req.headers,
    body,
    url: `${state.url}${req.url ?? "/"}`,
  };
  const served = serve(state, routes, ctx, credentials);
  record(afterService(served, effect));
}

/** What the client gets once the service answered: the fault's answer after a commit, or the real one. */
function afterService(served: Reply, effect: FaultEffect | undefined): Reply | "dropped" {
  if (effect === undefined) return served;
  if (effect.afterCommit) {
    return effect.drop ? "dropped" : (effect.reply as Reply);
  }
  return { ...served, headers: { ...served.headers, ...effect.extraHeaders } };
}

/** Runs the request through the routes; every refusal becomes Microsoft's error answer. */
function serve(state: State, routes: Route[], ctx: Context, credentials: Credentials): Reply {
  try {
    return dispatch(state, routes, ctx, credentials);
  } catch (err) {
    if (err instanceof ReplyError) {
      return err.reply;
    }
    if (err instanceof HttpError) {
      return {
        status: err.status,
        headers: err.headers,
        body: err.body ?? vssErrorBody(err.type, err.message),
      };
    }
    return {
      status: 500,
      body: vssErrorBody(ERRORS.serviceError, `Emulator error: ${(err as Error).message}`),
    };
  }
}

function dispatch(state: State, routes: Route[], ctx: Context, credentials: Credentials): Reply {
  let pathMatched = false;
  for (const r of routes) {
    const params = matchPattern(r.pattern, ctx.segments);
    if (params === undefined) {
      continue;
    }
    pathMatched = true;
    if (r.method !== ctx.method) {
      continue;
    }
    ctx.params = params;
    // rule T3 [obs] An organization in the path other than the world's answers 404 HostDoesNotExistException (decompiled Azure DevOps Server 2022 exception map: HostDoesNotExistException → 404; the body for an unknown dev.azure.com organization is not public)
    if (
      params.org !== undefined &&
      params.org.toLowerCase() !== state.world.organization.toLowerCase()
    ) {
      throw new HttpError(
        404,
        ERRORS.organizationNotFound,
        `The organization '${params.org}' does not exist (this emulator serves '${state.world.organization}').`,
      );
    }
    if (r.auth !== undefined) {
      authenticate(state, ctx, credentials, r.auth === "any" ? undefined : r.auth);
    }
    if (r.apiVersion !== null) {
      checkApiVersion(ctx, r.apiVersion.released);
    }
    return r.handle(ctx, credentials);
  }
  // rule T4 [guess] An unknown path answers 404 VssResourceNotFoundException, and so does a known path with another method (not 405) (the type exists for unregistered location ids: actions/runner src/Sdk/WebApi/WebApi/Exceptions/VssApiResourceExceptions.cs)
  throw new HttpError(
    404,
    ERRORS.routeNotFound,
    pathMatched
      ? `The emulator does not serve ${ctx.method} on /${ctx.segments.join("/")}.`
      : `The resource /${ctx.segments.join("/")} cannot be found.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Routes.

const released71: Version = [7, 1];
/** Graph users (graph-7.1.json) are still preview: any version needs -preview. */
const previewOnly: Version = [0, 0];

const ENTITLEMENTS_READ: ScopeRequirement = { anyOf: ["vso.memberentitlementmanagement"] };
const ENTITLEMENTS_WRITE: ScopeRequirement = { anyOf: ["vso.memberentitlementmanagement_write"] };
const GRAPH_READ: ScopeRequirement = { anyOf: ["vso.graph"] };
const GRAPH_MANAGE: ScopeRequirement = { anyOf: ["vso.graph_manage"] };
const PROJECTS_READ: ScopeRequirement = { anyOf: ["vso.profile", "vso.project"] };
const PROFILE_READ: ScopeRequirement = { anyOf: ["vso.profile"] };

// rule O17 [obs] HEAD (and GET) /{org} without credentials answers 401 carrying X-VSS-ResourceTenant: the tenant, or the all-zero GUID for a Microsoft-account organization (microsoft/azure-pipelines-agent#1164; git-credential-manager AzureDevOpsRestApi.cs GetAuthorityAsync reads the header and ignores the status)
// rule O23 [guess] An authenticated HEAD or GET of /{org}, which nobody has recorded, answers 200 with the header; behaviour authenticatedHead "challenge" answers it like an anonymous one
function resourceTenant(state: State, credentials: Credentials): Reply {
  const anonymous = credentials.token === undefined;
  if (anonymous || behaviourOf(state).authenticatedHead === "challenge") {
    throw anonymousChallenge(state);
  }
  const header = tenantHeaderValue(state, ZERO_GUID);
  return { status: 200, headers: header === undefined ? {} : { "X-VSS-ResourceTenant": header } };
}

// rule PF1 [obs] The profile endpoint answers "me" (or the caller's own id) with the caller's profile, id = its entitlement id, and refuses 401 a personal access token made for one organization (behaviour profileTokens "any" takes it); emailAddress is the profile's preferred e-mail, which a world user sets as profileEmail (edgafner/dorkag#31 and #60; Microsoft365DSC uses the profile id as member id; profile-7.1.json GET__profile_profiles_me.json)
// rule PF2 [guess] Without a profileEmail the profile's emailAddress is the principal name; another id answers 404 ProfileNotFoundException
function profile(state: State, ctx: Context): Reply {
  const w = state.world;
  if (
    behaviourOf(state).profileTokens === "allOrganizations" &&
    grantOf(w, ctx.token)?.allOrganizations === false
  ) {
    throw new HttpError(
      401,
      ERRORS.unauthorized,
      "TF400813: The user is not authorized to access this resource: the personal access token is valid for one organization only; the profile service needs a token for all accessible organizations.",
    );
  }
  const principal = callerOf(w, ctx);
  const user = userByPrincipal(w, principal);
  const normalized =
    user === undefined
      ? undefined
      : normalizeWorld({ ...w, users: [user], owner: user.principalName }).users[0];
  const id = normalized?.id ?? defaultUserId(principal);
  if (ctx.params.id.toLowerCase() !== "me" && ctx.params.id.toLowerCase() !== id) {
    throw new HttpError(
      404,
      ERRORS.profileNotFound,
      `The profile '${ctx.params.id}' could not be found.`,
    );
  }
  return {
    status: 200,
    body: profileBody(
      id,
      normalized?.displayName ?? principal.slice(0, principal.indexOf("@")),
      user?.profileEmail ?? principal,
    ),
  };
}

// rule P3 [doc] Graph users: {count, value}, the next page through the X-MS-ContinuationToken response header, absent on the last (graph-7.1.json Users_List; decompiled CreateGraphSubjectResponse adds the header)
// rule G4 [doc] subjectTypes filters graph users by origin (graph-7.1.json Users_List subjectTypes)
function listGraphUsers(state: State, ctx: Context): Reply {
  const w = readView(state);
  const types = (queryParam(ctx.query, "subjectTypes") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  const users = types.length === 0 ? w.users : w.users.filter((u) => types.includes(u.origin));
  const offset = decodeToken(queryParam(ctx.query, "continuationToken"), "graph");
  const next = offset + state.pageSize;
  const page = users.slice(offset, next).map((u) => graphUser(w, u, state.url));
  return {
    status: 200,
    body: { count: page.length, value: page },
    headers: continuationHeader(next < users.length ? encodeToken("graph", next) : undefined),
  };
}

// rule P4 [doc] Projects page with $top (default 100), $skip or an integer continuationToken, and stateFilter wellFormed or all; X-MS-ContinuationToken carries the next skip; a bad $top answers 400 (core-7.1.json Projects_List; the header value and the 400 are guesses)
function listProjects(state: State, ctx: Context): Reply {
  const w = normalizeWorld(state.world);
  const top = positiveInteger(queryParam(ctx.query, "$top"), "$top", 100, 1);
  const skip = positiveInteger(
    queryParam(ctx.query, "continuationToken") ?? queryParam(ctx.query, "$skip"),
    "$skip",
    0,
    0,
  );
  const stateFilter = (queryParam(ctx.query, "stateFilter") ?? "wellFormed").toLowerCase();
  const projects = stateFilter === "wellformed" || stateFilter === "all" ? w.projects : [];
  const page = projects.slice(skip, skip + top).map((p) => projectReference(w, p, state.url));
  return {
    status: 200,
    body: { count: page.length, value: page },
    headers: continuationHeader(skip + top < projects.length ? String(skip + top) : undefined),
  };
}

function buildRoutes(state: State): Route[] {
  const view = () => normalizeWorld(state.world);
  return [
    // rule T10 [guess] The sign-in page a redirect points to answers 200 with HTML
    route("GET", "/_signin", undefined, null, () => ({
      status: 200,
      text: signInPage(),
      contentType: TEXT_CONTENT_TYPE,
    })),
    route("HEAD", "/{org}", undefined, null, (_ctx, credentials) =>
      resourceTenant(state, credentials),
    ),
    route("GET", "/{org}", undefined, null, (_ctx, credentials) =>
      resourceTenant(state, credentials),
    ),

    // rule AU5 [guess] Discovery (resourceAreas, OPTIONS location tables) needs neither credentials nor an api-version (Microsoft's Node client sends credentials anyway)
    route("GET", "/_apis/resourceAreas", undefined, null, () => ({
      status: 200,
      body: resourceAreas(state.url, undefined),
    })),
    route("GET", "/{org}/_apis/resourceAreas", undefined, null, () => ({
      status: 200,
      body: resourceAreas(state.url, state.world.organization),
    })),
    route("OPTIONS", "/_apis/{area}", undefined, null, (ctx) => ({
      status: 200,
      body: locations(ctx.params.area, true),
    })),
    route("OPTIONS", "/{org}/_apis/{area}", undefined, null, (ctx) => ({
      status: 200,
      body: locations(ctx.params.area, false),
    })),

    // User entitlements (memberEntitlementManagement-7.1.json, User Entitlements_*).
    route(
      "GET",
      "/{org}/_apis/userentitlements",
      ENTITLEMENTS_READ,
      { released: released71 },
      (ctx) => listEntitlements(state, ctx),
    ),
    route(
      "GET",
      "/{org}/_apis/userentitlements/{id}",
      ENTITLEMENTS_READ,
      { released: released71 },
      (ctx) => getEntitlement(state, ctx),
    ),
    route(
      "DELETE",
      "/{org}/_apis/userentitlements/{id}",
      ENTITLEMENTS_WRITE,
      { released: released71 },
      (ctx) => deleteEntitlement(state, ctx),
    ),
    route(
      "POST",
      "/{org}/_apis/userentitlements",
      ENTITLEMENTS_WRITE,
      { released: released71 },
      (ctx) => addEntitlement(state, ctx),
    ),

    // Graph users (graph-7.1.json, Users_List / Users_Get / Users_Update).
    route("GET", "/{org}/_apis/graph/users", GRAPH_READ, { released: previewOnly }, (ctx) =>
      listGraphUsers(state, ctx),
    ),
    route(
      "GET",
      "/{org}/_apis/graph/users/{descriptor}",
      GRAPH_READ,
      { released: previewOnly },
      (ctx) => {
        const w = readView(state);
        const user = w.users.find((u) => descriptorOf(u) === ctx.params.descriptor);
        if (user === undefined) {
          throw graphSubjectNotFound(ctx.params.descriptor);
        }
        return { status: 200, body: graphUser(w, user, state.url) };
      },
    ),
    route(
      "PATCH",
      "/{org}/_apis/graph/users/{descriptor}",
      GRAPH_MANAGE,
      { released: previewOnly },
      (ctx) => mapUser(state, ctx),
    ),

    // Projects (core-7.1.json, Projects_List / Projects_Get).
    route("GET", "/{org}/_apis/projects", PROJECTS_READ, { released: released71 }, (ctx) =>
      listProjects(state, ctx),
    ),
    route(
      "GET",
      "/{org}/_apis/projects/{project}",
      PROJECTS_READ,
      { released: released71 },
      (ctx) => {
        const w = view();
        const capabilities =
          (queryParam(ctx.query, "includeCapabilities") ?? "").toLowerCase() === "true";
        return {
          status: 200,
          body: projectBody(w, findProject(w, ctx.params.project, GUID), state.url, capabilities),
        };
      },
    ),

    // The undocumented Organization endpoints (the Terraform provider's client_config reads them).
    route("GET", "/{org}/_apis/Organization/Collections/Me", "full", {}, () => ({
      status: 200,
      body: collectionBody(view(), reportedTenant(state)),
    })),
    route("PATCH", "/{org}/_apis/Organization/Collections/Me", "full", {}, (ctx) =>
      changeOwner(state, ctx),
    ),
    route("PATCH", "/{org}/_apis/Organization/Organizations/Me", "full", {}, (ctx) =>
      connectTenant(state, ctx),
    ),

    // Billing setup (azdevopscommerce.dev.azure.com), addressed by the organization's GUID.
    route("GET", "/{organizationId}/_apis/AzComm/BillingSetup", "full", {}, (ctx) =>
      billingSetup(view(), ctx.params.organizationId),
    ),

    // Azure Resource Manager (management.azure.com): its own error shape and api-versions.
    route("GET", "/subscriptions/{subscriptionId}", undefined, null, (ctx) =>
      armSubscription(state.world, ctx),
    ),

    // Who am I: app.vssps.visualstudio.com, no organization in the path.
    route("GET", "/_apis/profile/profiles/{id}", PROFILE_READ, {}, (ctx) => profile(state, ctx)),
  ];
}

/** Exposed for tests of the program that want to name a user the way the emulator does. */
export function emulatorDescriptor(world: World, principalName: string): string | undefined {
  const user = normalizeWorld(world).users.find(
    (u) => u.principalName.toLowerCase() === principalName.toLowerCase(),
  );
  return user === undefined ? undefined : descriptorOf(user);
}
