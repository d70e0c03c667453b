/**
 * Reading Azure DevOps answers into the program's types, strictly: an answer of another shape is
 * an error naming what is missing, never an empty result. Pure functions over parsed JSON.
 */

/** One user of the organization, as the user entitlements API lists them. */
export interface UserEntitlement {
  /** Entitlement / storage id (GUID): what the owner and delete calls refer to. */
  readonly id: string;
  readonly descriptor?: string;
  /** Id of the identity in its origin (the Entra object id once bound to the tenant). */
  readonly originId?: string;
  readonly principalName: string;
  readonly mailAddress?: string;
  readonly displayName?: string;
  /** `msa` (Microsoft account) or `aad` (Entra). */
  readonly origin: string;
  /** `express` (Basic), `stakeholder`, … */
  readonly license: string;
  /** `active`, `pending`, `disabled`, … */
  readonly status: string;
  /** ISO date; absent when the user never signed in. */
  readonly lastAccessedDate?: string;
  /** ISO date the user was added to the organization, when the answer says. */
  readonly dateCreated?: string;
}

/** Whether a project can hold TFVC repositories: what its version control capability says. */
export type VersionControl = "git" | "tfvc" | "unknown";

export interface ProjectInfo {
  readonly id: string;
  readonly name: string;
  /**
   * `tfvc` when the project's type is Tfvc or it has TFVC enabled; `git` only when the capability
   * says TFVC is disabled; `unknown` when the answer does not say (which blocks the connection).
   */
  readonly versionControl: VersionControl;
}

export interface Caller {
  readonly id: string;
  readonly displayName?: string;
  readonly emailAddress?: string;
}

/**
 * A parse failure: the message says which field of the answer is wrong. A plain Error (see
 * errors.ts for why no subclass), recognised by its name.
 */
function shapeError(message: string): Error {
  return Object.assign(new Error(message), { name: "ShapeError" });
}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw shapeError(`${what} is not a JSON object`);
  }
  return value as Json;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The user entitlements API writes "never signed in" as a date in year 1: the REST spec's own
 * example says `0001-01-01T08:00:00Z`, captures of the service `0001-01-01T00:00:00Z`. Any date
 * before 1900 is read as "never".
 */
function signInDate(value: unknown): string | undefined {
  const text = optionalString(value);
  if (text === undefined) return undefined;
  const year = Number(/^(\d{4})-/.exec(text)?.[1] ?? NaN);
  return Number.isFinite(year) && year >= 1900 ? text : undefined;
}

/** One user entitlement. Throws a shape error without an id or a principal name. */
export function userEntitlement(item: unknown): UserEntitlement {
  const e = object(item, "a user entitlement");
  const user = object(e.user ?? {}, "a user entitlement's `user`");
  const access = object(e.accessLevel ?? {}, "a user entitlement's `accessLevel`");
  const id = optionalString(e.id);
  if (id === undefined) throw shapeError("a user entitlement has no `id`");
  const principalName = optionalString(user.principalName) ?? optionalString(user.mailAddress);
  const last = signInDate(e.lastAccessedDate);
  const created = optionalString(e.dateCreated);
  return {
    id: id.toLowerCase(),
    ...(optionalString(user.descriptor) ? { descriptor: user.descriptor as string } : {}),
    ...(optionalString(user.originId) ? { originId: user.originId as string } : {}),
    // An entitlement without any name is kept (the plan reports it) rather than dropped.
    principalName: principalName ?? "",
    ...(optionalString(user.mailAddress) ? { mailAddress: user.mailAddress as string } : {}),
    ...(optionalString(user.displayName) ? { displayName: user.displayName as string } : {}),
    origin: (optionalString(user.origin) ?? "unknown").toLowerCase(),
    license: optionalString(access.accountLicenseType) ?? "none",
    status: optionalString(access.status) ?? "none",
    ...(last ? { lastAccessedDate: last } : {}),
    ...(created ? { dateCreated: created } : {}),
  };
}

/** One page of User Entitlements - Search: `{ items, continuationToken, totalCount }`. */
export function userPage(body: unknown): {
  items: UserEntitlement[];
  continuationToken?: string;
  totalCount?: number;
} {
  const page = object(body, "the answer");
  if (!Array.isArray(page.items)) throw shapeError("the answer has no `items` array");
  const token = optionalString(page.continuationToken);
  return {
    items: page.items.map(userEntitlement),
    ...(token ? { continuationToken: token } : {}),
    ...(typeof page.totalCount === "number" ? { totalCount: page.totalCount } : {}),
  };
}

/** User Entitlements - Add: the entitlement the answer carries. */
export function addedUser(body: unknown): UserEntitlement {
  const b = object(body, "the answer");
  const entitlement =
    b.userEntitlement ?? object(b.operationResult ?? {}, "`operationResult`").result;
  if (entitlement === undefined || entitlement === null) {
    throw shapeError("the answer has no `userEntitlement`");
  }
  return userEntitlement(entitlement);
}

/** Projects - List: `{ count, value: [TeamProjectReference] }`; the count must match the list. */
export function projectPage(body: unknown): { id: string; name: string }[] {
  const page = object(body, "the answer");
  if (!Array.isArray(page.value)) throw shapeError("the answer has no `value` array");
  if (typeof page.count === "number" && page.count !== page.value.length) {
    throw shapeError(`the answer says count ${page.count} but lists ${page.value.length}`);
  }
  return page.value.map((p, i) => {
    const ref = object(p, `project ${i}`);
    const id = optionalString(ref.id);
    const name = optionalString(ref.name);
    if (id === undefined || name === undefined) {
      throw shapeError(`project ${i} has no \`id\` or \`name\``);
    }
    return { id, name };
  });
}

/** "True"/"False" (the service writes capabilities as strings) or booleans; else undefined. */
function flag(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return /^true$/i.test(value);
  return undefined;
}

/**
 * Projects - Get with `includeCapabilities=true`. A project may hold TFVC repositories next to Git
 * ones ("You can use TFVC repos with Git in the same project"), so `tfvcEnabled` decides; only an
 * explicit "TFVC disabled" counts as Git-only.
 */
export function projectVersionControl(body: unknown): VersionControl {
  const project = object(body, "the answer");
  const capabilities = project.capabilities;
  if (typeof capabilities !== "object" || capabilities === null) return "unknown";
  const vc = (capabilities as Json).versioncontrol;
  if (typeof vc !== "object" || vc === null) return "unknown";
  const { sourceControlType, tfvcEnabled } = vc as Json;
  const tfvc = flag(tfvcEnabled);
  if (tfvc === true || sourceControlType === "Tfvc") return "tfvc";
  if (tfvc === false) return "git";
  return "unknown";
}

/** Profiles - Get `me`. */
export function caller(body: unknown): Caller {
  const p = object(body, "the answer");
  const id = optionalString(p.id);
  if (id === undefined) throw shapeError("the profile has no `id`");
  return {
    id,
    ...(optionalString(p.displayName) ? { displayName: p.displayName as string } : {}),
    ...(optionalString(p.emailAddress) ? { emailAddress: p.emailAddress as string } : {}),
  };
}
