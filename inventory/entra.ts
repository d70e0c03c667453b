import * as azuread from "@pulumi/azuread";
import { isExternalUpn, normalizeIdentity } from "../config/identity";
import type { TenantStanding } from "../plan/readiness";
import type { TenantIdentity } from "../plan/types";

/** What the plan needs to know about the target tenant. */
export interface TenantReading {
  /** The tenant the azuread provider is signed in to. */
  readonly signedInTenantId: string;
  readonly users: TenantIdentity[];
  /** Verified domains, lower case. */
  readonly verifiedDomains: string[];
  /** The tenant's default domain, to name the tenant in messages. */
  readonly defaultDomain?: string;
}

/**
 * Reads the tenant with three invokes whatever the organization's size: the caller's tenant, the
 * domains, and one paged scan of every user (`getUsers({ returnAll: true })`, 999 users per Graph
 * page). Looking users up by address instead (`getUsers({ mails })`) costs one Graph request per
 * address (docs/entra.md#reading-the-tenant), i.e. 2 × 10,000 requests for a 10,000-user organization, while a scan of a
 * 50,000-user tenant is about 50. `getUsers` does not return `userType`, so a user is taken as a
 * guest when their UPN has Entra's external form (`…#EXT#@…`); callers that need certainty for one
 * user ask {@link readStanding}.
 */
export async function readTenant(): Promise<TenantReading> {
  const [client, domains, all] = await Promise.all([
    azuread.getClientConfig(),
    azuread.getDomains({}),
    azuread.getUsers({ returnAll: true }),
  ]);
  return {
    signedInTenantId: normalizeIdentity(client.tenantId),
    verifiedDomains: domains.domains
      .filter((d) => d.verified)
      .map((d) => normalizeIdentity(d.domainName)),
    ...defaultDomainOf(domains.domains),
    users: all.users.map((u) => ({
      objectId: u.objectId,
      userPrincipalName: u.userPrincipalName,
      ...(u.mail ? { mail: u.mail } : {}),
      kind: isExternalUpn(u.userPrincipalName) ? "guest" : "member",
      accountEnabled: u.accountEnabled !== false,
    })),
  };
}

/**
 * The exact standing of one user (one Graph request): `userType`, invitation state, enabled — for
 * the few decisions that need certainty (who may connect).
 */
export async function readStanding(objectId: string): Promise<TenantStanding> {
  const user = await azuread.getUser({ objectId });
  return {
    kind: user.userType === "Guest" ? "guest" : "member",
    ...(user.externalUserState ? { externalUserState: user.externalUserState } : {}),
    accountEnabled: user.accountEnabled,
  };
}

function defaultDomainOf(domains: readonly { domainName: string; default: boolean }[]): {
  defaultDomain?: string;
} {
  const found = domains.find((d) => d.default);
  return found ? { defaultDomain: normalizeIdentity(found.domainName) } : {};
}
