/**
 * The emulator's switches: each one is a behaviour of Azure DevOps that the evidence leaves open
 * (or that tests need to hold still), with the default the evidence points to. A world fixture sets
 * them under `behaviour`, a running emulator takes them over `GET`/`PUT`/`PATCH /_emulator/behaviour`.
 * `docs/test-doubles.md` lists them with the rule each one belongs to.
 */

/** Every switch, with its value. */
export interface Behaviour {
  /**
   * A credential the service does not take (unknown, expired, revoked) on GET or POST: Microsoft's
   * HTML sign-in page with 203 ("signInPage"), a 302 to the sign-in page ("redirect"), or a 401 JSON
   * error as on PATCH ("unauthorized"). Default "signInPage".
   */
  refusedCredential: "signInPage" | "redirect" | "unauthorized";
  /**
   * An authenticated HEAD (or GET) of `/{org}`, which nobody has recorded: 200 with the tenant
   * header ("ok"), or the 401 challenge an anonymous one gets ("challenge"). Default "ok".
   */
  authenticatedHead: "ok" | "challenge";
  /**
   * `X-VSS-ResourceTenant` on `/{org}`: always sent ("present"), never ("absent"), or missing until
   * `tenantHeaderDelayMs` after the last connection or disconnection ("late"). Default "present".
   */
  tenantHeader: "present" | "absent" | "late";
  /** How late the header comes in "late" mode. Default 1000. */
  tenantHeaderDelayMs: number;
  /**
   * How long a change made in Entra (a user added over the control API, a redemption, a user type
   * change) takes to reach Azure DevOps: before that, connect, bind and map see the tenant as it
   * was. Default 0.
   */
  entraPropagationMs: number;
  /** How long `Organization/Collections/Me` keeps reporting the previous tenant. Default 0. */
  connectionPropagationMs: number;
  /**
   * An accepted owner change: applied at once ("immediate"), `ownerChangeDelayMs` later ("delayed"),
   * or never while answering success ("ignored"). Default "immediate".
   */
  ownerChange: "immediate" | "delayed" | "ignored";
  /** The delay of "delayed". Default 1000. */
  ownerChangeDelayMs: number;
  /**
   * What the connection does to the personal access tokens of Microsoft accounts (the principals
   * of `world.tokens` who are "msa" users when it happens): nothing ("keep"), or they stop working
   * ("revoke"). Default "keep".
   */
  msaTokensAfterConnect: "keep" | "revoke";
  /**
   * Which personal access tokens the profile endpoint takes: only those for all accessible
   * organizations ("allOrganizations"), or any ("any"). Default "allOrganizations".
   */
  profileTokens: "allOrganizations" | "any";
  /** Status of a successful identity mapping: 201 with `Location`, or 200. Default 201. */
  mappingStatus: 200 | 201;
  /** How long after a mapping the entitlement and graph reads still show the old identity. Default 0. */
  mappingVisibilityMs: number;
  /**
   * Mapping onto an identity another organization user holds: that user's entitlement and group
   * memberships are removed first ("scrub"), or the mapping is refused ("refuse"). Default "scrub".
   */
  mappingHolder: "scrub" | "refuse";
  /** Status for a mapping target the tenant does not have: 400 (the service's) or 404. Default 400. */
  mappingUnknownTarget: 400 | 404;
  /**
   * A mapping onto the identity the user already holds: refused with 400 ("refuse") or answered
   * as a success that changes nothing ("accept"). Default "refuse".
   */
  mappingToItself: "refuse" | "accept";
  /** Connect refuses an owner whose Microsoft account has a tenant member's UPN. Default true. */
  msaTwinRefusal: boolean;
  /**
   * How connect binds Microsoft-account users: by sign-in address only ("upn": a native identity's
   * UPN, an invited one's address), or also by a member's mail ("upnOrMail"). Default "upn".
   */
  connectBinding: "upn" | "upnOrMail";
  /**
   * Who may disconnect: what Microsoft documents ("documented": an owner and caller on a Microsoft
   * account, the caller a Global Administrator of the tenant), or any owner ("ownerOnly").
   * Default "documented".
   */
  disconnect: "documented" | "ownerOnly";
  /**
   * The organization policy "External guest access": in a connected organization, adding an
   * address from outside the tenant invites it as a B2B guest (true) or is refused (false).
   * Default true.
   */
  externalGuestAccess: boolean;
}

export const DEFAULT_BEHAVIOUR: Readonly<Behaviour> = Object.freeze({
  refusedCredential: "signInPage",
  authenticatedHead: "ok",
  tenantHeader: "present",
  tenantHeaderDelayMs: 1000,
  entraPropagationMs: 0,
  connectionPropagationMs: 0,
  ownerChange: "immediate",
  ownerChangeDelayMs: 1000,
  msaTokensAfterConnect: "keep",
  profileTokens: "allOrganizations",
  mappingStatus: 201,
  mappingVisibilityMs: 0,
  mappingHolder: "scrub",
  mappingUnknownTarget: 400,
  mappingToItself: "refuse",
  msaTwinRefusal: true,
  connectBinding: "upn",
  disconnect: "documented",
  externalGuestAccess: true,
});

/** What each switch accepts: the allowed values, or "ms" for a delay in milliseconds. */
const ALLOWED: { [K in keyof Behaviour]: readonly Behaviour[K][] | "ms" } = {
  refusedCredential: ["signInPage", "redirect", "unauthorized"],
  authenticatedHead: ["ok", "challenge"],
  tenantHeader: ["present", "absent", "late"],
  tenantHeaderDelayMs: "ms",
  entraPropagationMs: "ms",
  connectionPropagationMs: "ms",
  ownerChange: ["immediate", "delayed", "ignored"],
  ownerChangeDelayMs: "ms",
  msaTokensAfterConnect: ["keep", "revoke"],
  profileTokens: ["allOrganizations", "any"],
  mappingStatus: [200, 201],
  mappingVisibilityMs: "ms",
  mappingHolder: ["scrub", "refuse"],
  mappingUnknownTarget: [400, 404],
  mappingToItself: ["refuse", "accept"],
  msaTwinRefusal: [true, false],
  connectBinding: ["upn", "upnOrMail"],
  disconnect: ["documented", "ownerOnly"],
  externalGuestAccess: [true, false],
};

export const BEHAVIOUR_KEYS = Object.keys(ALLOWED) as (keyof Behaviour)[];

/**
 * Checks a partial set of switches and returns a copy holding only those given. Throws naming the
 * path of the first bad one, e.g. `behaviour.mappingStatus must be one of 200, 201 (got 204)`.
 */
export function validateBehaviour(raw: unknown, path: string = "behaviour"): Partial<Behaviour> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`invalid world: ${path} must be an object of switches (got ${show(raw)})`);
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === "$comment") continue;
    const allowed = (ALLOWED as Record<string, readonly unknown[] | "ms">)[key];
    if (allowed === undefined) {
      throw new Error(
        `invalid world: ${path}.${key} is not a known switch (allowed: ${BEHAVIOUR_KEYS.join(", ")})`,
      );
    }
    if (allowed === "ms") {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new Error(
          `invalid world: ${path}.${key} must be a number of milliseconds >= 0 (got ${show(value)})`,
        );
      }
    } else if (!allowed.includes(value)) {
      throw new Error(
        `invalid world: ${path}.${key} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")} (got ${show(value)})`,
      );
    }
    result[key] = value;
  }
  return result as Partial<Behaviour>;
}

/** The switches in force: the defaults, overridden by those a world sets. */
export function effectiveBehaviour(partial: Partial<Behaviour> | undefined): Behaviour {
  return { ...DEFAULT_BEHAVIOUR, ...partial };
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
