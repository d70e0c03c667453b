/**
 * A digest of who is in the organization (their user ids, in any order), so that a check made
 * right before the connection can tell whether anyone joined or left since the plan. The count is
 * kept readable in front of the hash.
 */
export function usersDigest(users: readonly { readonly id: string }[]): string {
  // Required here, not imported: this runs serialized inside the dynamic providers too.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const ids = users.map((u) => u.id.toLowerCase()).sort();
  return `${ids.length}:${createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 32)}`;
}
