import { ZERO_GUID, isGuid } from "../devops/guid";
import { organizationUrl } from "../devops/hosts";
import { z } from "zod";
import { looksLikeIdentity, normalizeIdentity } from "./identity";

/** Every key lives in this namespace: `pulumi config set devops-entra-connect:<key>`. */
export const CONFIG_NAMESPACE = "devops-entra-connect";

/**
 * The migration's phases, each one reviewed `pulumi up`: invite (prepare), hand ownership over and
 * connect (connect), map the users the connection left disconnected or who change identity
 * (resolve), hand ownership back and remove the temporary owner (cleanup).
 */
export const PHASES = ["prepare", "connect", "resolve", "cleanup"] as const;
export type Phase = (typeof PHASES)[number];

export type InvitedUserType = "Guest" | "Member";

/** The validated, typed configuration that the rest of the program works from. */
export interface MigrationConfig {
  readonly organization: {
    /** Organization name, e.g. `fabrikam`. */
    readonly name: string;
    /** Canonical URL, `https://dev.azure.com/{name}`, also the default invitation redirect. */
    readonly url: string;
  };
  /** Target tenant GUID, lower case. */
  readonly tenantId: string;
  readonly phase: Phase;
  readonly invitation: {
    readonly redirectUrl: string;
    /** Entra sends the invitation email only when a message is set (docs/entra.md#invitation-email). */
    readonly sendEmail: boolean;
    readonly message?: string;
    readonly userType: InvitedUserType;
  };
  /** Normalized organization identity → normalized Entra identity it must end up with. */
  readonly identityChanges: ReadonlyMap<string, string>;
  /** Normalized identities the operator accepts will become historic. */
  readonly acceptHistoricUsers: ReadonlySet<string>;
  /** Normalized identities left out of the migration. */
  readonly excludeUsers: ReadonlySet<string>;
  /**
   * The temporary Microsoft account that owns the organization during the connection when the
   * owner cannot perform it (docs/procedure.md#temporary-owner). Its token is kept apart, in
   * {@link LoadedConfig}.
   */
  readonly temporaryOwner: {
    /** Normalized address of the MSA; undefined until a human created it and configured it. */
    readonly msaEmail?: string;
    /** How it is invited: Member (default; only active members may connect) or Guest. */
    readonly userType: InvitedUserType;
  };
  /** Connect although projects use TFVC (their MSA-owned workspaces become unusable). */
  readonly allowTfvc: boolean;
  /** Removing the connection from the program (or `pulumi destroy`) disconnects the organization. */
  readonly allowDisconnect: boolean;
}

/** The raw values as read from the stack, before validation; `undefined` = not set. */
export interface RawConfig {
  organization?: unknown;
  tenantId?: unknown;
  phase?: unknown;
  temporaryOwner?: unknown;
  allowTfvc?: unknown;
  allowDisconnect?: unknown;
  invitation?: unknown;
  identityChanges?: unknown;
  acceptHistoricUsers?: unknown;
  excludeUsers?: unknown;
}

/** All problems found in the configuration, each naming its key and the fix. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
        `nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

const key = (name: string): string => `${CONFIG_NAMESPACE}:${name}`;

// Azure DevOps organization names: letters, digits and hyphens, up to 50 characters, not starting
// or ending with a hyphen.
const ORG_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$/;

/**
 * Accepts `fabrikam`, `https://dev.azure.com/fabrikam[/]` and the legacy
 * `https://fabrikam.visualstudio.com[/]`; returns the name in lower case, the one form the program
 * uses for the organization (Azure DevOps treats organization names case-insensitively, so
 * `Fabrikam` and `fabrikam` are one organization and must not name two sets of resources).
 * Undefined when it is none of them, or when the URL carries credentials.
 */
export function parseOrganization(value: string): string | undefined {
  const trimmed = value.trim();
  if (ORG_NAME.test(trimmed)) return trimmed.toLowerCase();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || url.username !== "" || url.password !== "") return undefined;
  const host = url.hostname.toLowerCase();
  const segments = url.pathname.split("/").filter((s) => s !== "");
  if (host === "dev.azure.com" && segments.length === 1 && ORG_NAME.test(segments[0])) {
    return segments[0].toLowerCase();
  }
  const legacy = /^([a-z0-9-]+)\.visualstudio\.com$/.exec(host);
  if (legacy && segments.length === 0 && ORG_NAME.test(legacy[1])) return legacy[1];
  return undefined;
}

/** True when the value is a URL with a user name or password in it: a credential in the config. */
function carriesCredentials(value: string): boolean {
  try {
    const url = new URL(value.trim());
    return url.username !== "" || url.password !== "";
  } catch {
    return false;
  }
}

const identityList = (name: string) =>
  z
    .array(z.string(), {
      error: `${key(name)} must be a list of user emails, e.g. ["someone@example.com"]`,
    })
    .superRefine((items, ctx) => {
      items.forEach((item, i) => {
        if (!looksLikeIdentity(item)) {
          ctx.addIssue({
            code: "custom",
            path: [i],
            // The value is not echoed: a token pasted in the wrong key must not reach a log.
            message: `${key(name)}[${i}] is not an email or principal name; use the address shown on the organization's Users page`,
          });
        }
      });
    });

/** Booleans arrive as strings from `pulumi config set`; accept both forms. */
const flag = (name: string) =>
  z
    .union([z.boolean(), z.enum(["true", "false"])], {
      error: `${key(name)} must be true or false: run \`pulumi config set ${name} true\``,
    })
    .default(false)
    .transform((v) => v === true || v === "true");

const schema = z.object({
  organization: z.string({
    error: `${key("organization")} is required: run \`pulumi config set organization <name or https://dev.azure.com/<name>>\``,
  }),
  tenantId: z.string({
    error: `${key("tenantId")} is required: run \`pulumi config set tenantId <tenant GUID>\` (Entra admin center → Overview → Tenant ID)`,
  }),
  phase: z
    .enum(PHASES, {
      error: `${key("phase")} must be one of ${PHASES.join(", ")}: run \`pulumi config set phase prepare\``,
    })
    .default("prepare"),
  invitation: z
    .strictObject(
      {
        redirectUrl: z
          .url({
            protocol: /^https?$/,
            error: `${key("invitation")}.redirectUrl must be an http(s) URL, e.g. https://dev.azure.com/<org>`,
          })
          .optional(),
        sendEmail: z
          .boolean({ error: `${key("invitation")}.sendEmail must be true or false` })
          .default(true),
        message: z
          .string({ error: `${key("invitation")}.message must be a string` })
          .trim()
          .min(1, `${key("invitation")}.message is empty; remove it or write the text`)
          .max(10000, `${key("invitation")}.message is longer than 10,000 characters; shorten it`)
          .optional(),
        userType: z
          .enum(["Guest", "Member"], {
            error: `${key("invitation")}.userType must be "Guest" or "Member" (Member needs an administrator)`,
          })
          .default("Guest"),
      },
      {
        error: (issue) =>
          issue.code === "unrecognized_keys"
            ? `${key("invitation")} has unknown field(s) ${issue.keys.join(", ")}; allowed: redirectUrl, sendEmail, message, userType`
            : `${key("invitation")} must be an object: pulumi config set --path invitation.userType Guest`,
      },
    )
    .default({ sendEmail: true, userType: "Guest" }),
  identityChanges: z
    .record(z.string(), z.string(), {
      error: `${key("identityChanges")} must map an organization user to their new Entra identity, e.g. {"jamal@outlook.com": "jamal@fabrikam.com"}`,
    })
    .default({}),
  acceptHistoricUsers: identityList("acceptHistoricUsers").default([]),
  excludeUsers: identityList("excludeUsers").default([]),
  temporaryOwner: z
    .strictObject(
      {
        msaEmail: z
          .string({ error: `${key("temporaryOwner")}.msaEmail must be a string` })
          .refine(looksLikeIdentity, {
            error: `${key("temporaryOwner")}.msaEmail is not an email; create the account at https://signup.live.com and set its address`,
          })
          .optional(),
        userType: z
          .enum(["Guest", "Member"], {
            error: `${key("temporaryOwner")}.userType must be "Member" (default; needs an administrator) or "Guest"`,
          })
          .default("Member"),
        // Validated here for shape only; the value is read as a secret and kept out of this object.
        devopsToken: z
          .string({ error: `${key("temporaryOwner")}.devopsToken must be a string (a PAT)` })
          .optional(),
      },
      {
        error: (issue) =>
          issue.code === "unrecognized_keys"
            ? `${key("temporaryOwner")} has unknown field(s) ${issue.keys.join(", ")}; allowed: msaEmail, userType, devopsToken`
            : `${key("temporaryOwner")} must be an object: pulumi config set --path temporaryOwner.msaEmail <address>`,
      },
    )
    .default({ userType: "Member" }),
  allowTfvc: flag("allowTfvc"),
  allowDisconnect: flag("allowDisconnect"),
});

function organizationProblems(value: string): string[] {
  if (carriesCredentials(value)) {
    return [
      `${key("organization")} is a URL with credentials in it; set the name or https://dev.azure.com/<name> only, pass the token as AZDO_PERSONAL_ACCESS_TOKEN, and revoke the exposed token`,
    ];
  }
  return parseOrganization(value) === undefined
    ? [
        `${key("organization")} is not an organization name or URL; use the name (fabrikam), https://dev.azure.com/fabrikam or https://fabrikam.visualstudio.com`,
      ]
    : [];
}

function tenantProblems(value: string): string[] {
  const tenantId = value.trim().toLowerCase();
  return !isGuid(tenantId) || tenantId === ZERO_GUID
    ? [
        `${key("tenantId")} is not a tenant GUID; copy the Tenant ID from the Entra admin center (Overview), not the domain name`,
      ]
    : [];
}

/**
 * The identity changes as one map from a principal name to its new identity, or the problems that
 * make them unsafe: an entry that is not two addresses, a self-mapping, a duplicate key, two users
 * sent to one identity (the service would take it from the first to give it to the second), and a
 * chain or cycle (`a → b` while `b` changes too: which one holds `b` depends on the order).
 * Entries are named by their position, never by value.
 */
function identityChangeProblems(
  entries: Readonly<Record<string, string>>,
  problems: string[],
): Map<string, string> {
  const changes = new Map<string, string>();
  const targets = new Map<string, string>();
  Object.entries(entries).forEach(([from, to], i) => {
    const entry = `${key("identityChanges")} entry ${i + 1}`;
    if (!looksLikeIdentity(from) || !looksLikeIdentity(to)) {
      problems.push(`${entry} must map one email to another; fix the entry`);
      return;
    }
    const f = normalizeIdentity(from);
    const t = normalizeIdentity(to);
    if (f === t) {
      problems.push(`${entry} maps ${f} to itself; remove it (the same identity needs no change)`);
    } else if (changes.has(f)) {
      problems.push(`${entry} lists ${f} a second time (case-insensitive); keep one`);
    } else if (targets.has(t)) {
      problems.push(
        `${entry} sends ${f} to ${t}, which ${targets.get(t)} already gets; one identity can back one user`,
      );
    } else {
      changes.set(f, t);
      targets.set(t, f);
    }
  });
  for (const [from, to] of changes) {
    if (changes.has(to)) {
      problems.push(
        `${key("identityChanges")} chains ${from} → ${to} → ${changes.get(to)}: ${to} both changes and is taken; map each user straight to a free identity`,
      );
    }
  }
  return changes;
}

/** Validates raw values into a {@link MigrationConfig}, or throws a {@link ConfigError} listing every problem. */
export function parseConfig(raw: RawConfig): MigrationConfig {
  const result = schema.safeParse(raw);
  if (!result.success) {
    // Report the value checks of the two required strings too, so one run lists every problem.
    throw new ConfigError([
      ...result.error.issues.map((i) => i.message),
      ...(typeof raw.organization === "string" ? organizationProblems(raw.organization) : []),
      ...(typeof raw.tenantId === "string" ? tenantProblems(raw.tenantId) : []),
    ]);
  }
  const v = result.data;
  const problems: string[] = [
    ...organizationProblems(v.organization),
    ...tenantProblems(v.tenantId),
  ];
  const orgName = parseOrganization(v.organization);
  const tenantId = v.tenantId.trim().toLowerCase();

  if (v.invitation.message !== undefined && !v.invitation.sendEmail) {
    problems.push(
      `${key("invitation")}.message is set but sendEmail is false; Entra sends the email exactly when a message is set, so remove one of them`,
    );
  }

  const identityChanges = identityChangeProblems(v.identityChanges, problems);

  const excludeUsers = new Set(v.excludeUsers.map(normalizeIdentity));
  const acceptHistoricUsers = new Set(v.acceptHistoricUsers.map(normalizeIdentity));
  for (const user of excludeUsers) {
    if (acceptHistoricUsers.has(user)) {
      problems.push(
        `"${user}" is in both ${key("excludeUsers")} and ${key("acceptHistoricUsers")}; keep it in one`,
      );
    }
    if (identityChanges.has(user)) {
      problems.push(
        `"${user}" is in both ${key("excludeUsers")} and ${key("identityChanges")}; keep it in one`,
      );
    }
  }
  for (const user of acceptHistoricUsers) {
    if (identityChanges.has(user)) {
      problems.push(
        `"${user}" is in both ${key("acceptHistoricUsers")} and ${key("identityChanges")}; keep it in one`,
      );
    }
  }

  if (problems.length > 0 || orgName === undefined) throw new ConfigError(problems);

  const url = organizationUrl(orgName);
  return {
    organization: { name: orgName, url },
    tenantId,
    phase: v.phase,
    invitation: {
      redirectUrl: v.invitation.redirectUrl ?? url,
      sendEmail: v.invitation.sendEmail,
      ...(v.invitation.message !== undefined ? { message: v.invitation.message } : {}),
      userType: v.invitation.userType,
    },
    identityChanges,
    acceptHistoricUsers,
    excludeUsers,
    temporaryOwner: {
      ...(v.temporaryOwner.msaEmail !== undefined
        ? { msaEmail: normalizeIdentity(v.temporaryOwner.msaEmail) }
        : {}),
      userType: v.temporaryOwner.userType,
    },
    allowTfvc: v.allowTfvc,
    allowDisconnect: v.allowDisconnect,
  };
}
