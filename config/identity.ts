/**
 * How the program compares identities. Azure DevOps and Entra ID both treat principal names and
 * mail addresses case-insensitively (DOMAIN §1.1), and portal exports often carry stray spaces, so
 * every comparison goes through one normal form.
 */
export function normalizeIdentity(value: string): string {
  return value.trim().toLowerCase();
}

/** A principal name or mail address: one "@" with something on each side, no spaces. */
export function looksLikeIdentity(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim());
}

/** The domain part of a normalized identity ("" when there is none). */
export function domainOf(identity: string): string {
  const at = identity.lastIndexOf("@");
  return at < 0 ? "" : identity.slice(at + 1);
}

/**
 * The external address behind a B2B guest's user principal name, e.g.
 * `partner_othercompany.com#EXT#@fabrikam.onmicrosoft.com` → `partner@othercompany.com`
 * (DOMAIN §2: guest UPNs look like `alias_domain#EXT#@tenant.onmicrosoft.com`). The alias may
 * itself contain underscores, so the last one separates it from the domain.
 */
export function externalAddressOfGuestUpn(upn: string): string | undefined {
  const marker = upn.toLowerCase().indexOf("#ext#@");
  if (marker < 0) return undefined;
  const mangled = upn.slice(0, marker);
  const underscore = mangled.lastIndexOf("_");
  if (underscore <= 0 || underscore === mangled.length - 1) return undefined;
  return normalizeIdentity(`${mangled.slice(0, underscore)}@${mangled.slice(underscore + 1)}`);
}

/** True for the UPN form Entra gives B2B (external) accounts. */
export function isExternalUpn(upn: string): boolean {
  return upn.toLowerCase().includes("#ext#@");
}
