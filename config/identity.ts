import { domainToASCII } from "node:url";

/**
 * Characters that are invisible in a portal export or a pasted address but make two addresses
 * differ: zero-width space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen.
 */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

/**
 * How the program compares identities: one normal form for every address it reads or is given.
 * Azure DevOps and Entra ID compare principal names and mail addresses case-insensitively
 * (docs/procedure.md#matching); Unicode has several encodings of one accented letter (NFC is the
 * one kept), exports carry invisible characters and stray spaces, and an internationalized domain
 * can be written in Unicode or in its ASCII (punycode) form, which is the one kept.
 */
export function normalizeIdentity(value: string): string {
  const cleaned = value.normalize("NFC").replace(INVISIBLE, "").trim().toLowerCase();
  const at = cleaned.lastIndexOf("@");
  if (at < 0) return cleaned;
  const domain = cleaned.slice(at + 1);
  return `${cleaned.slice(0, at)}@${domainToASCII(domain) || domain}`;
}

/** A principal name or mail address: one "@" with something on each side, no spaces. */
export function looksLikeIdentity(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalizeIdentity(value));
}

/** The domain part of a normalized identity ("" when there is none). */
export function domainOf(identity: string): string {
  const at = identity.lastIndexOf("@");
  return at < 0 ? "" : identity.slice(at + 1);
}

/**
 * The external address behind a B2B guest's user principal name, e.g.
 * `partner_othercompany.com#EXT#@fabrikam.onmicrosoft.com` → `partner@othercompany.com`
 * (docs/entra.md#guest-upn: guest UPNs look like `alias_domain#EXT#@tenant.onmicrosoft.com`).
 * The alias may itself contain underscores, so the last one separates it from the domain.
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
