import type { NormalizedTenantUser } from "../emulator/world";

/**
 * One user as `azuread.getUsers` returns it (the fields Graph's user list gives). Shared by the
 * test mocks and the end-to-end azuread stand-in, which answer the same invoke from the same world.
 */
export function listedUser(u: NormalizedTenantUser): {
  accountEnabled: boolean;
  displayName: string;
  employeeId: string;
  mail: string;
  mailNickname: string;
  objectId: string;
  onpremisesImmutableId: string;
  onpremisesSamAccountName: string;
  onpremisesUserPrincipalName: string;
  usageLocation: string;
  userPrincipalName: string;
} {
  return {
    accountEnabled: u.accountEnabled,
    displayName: u.displayName,
    employeeId: "",
    mail: u.mail ?? "",
    mailNickname: u.userPrincipalName.split("@")[0],
    objectId: u.objectId,
    onpremisesImmutableId: "",
    onpremisesSamAccountName: "",
    onpremisesUserPrincipalName: "",
    usageLocation: "",
    userPrincipalName: u.userPrincipalName,
  };
}

/** The whole `azuread.getUsers({ returnAll: true })` answer for these users. */
export function getUsersResult(users: readonly NormalizedTenantUser[]): Record<string, unknown> {
  const listed = users.map(listedUser);
  return {
    id: "all",
    returnAll: true,
    ignoreMissing: false,
    users: listed,
    objectIds: listed.map((u) => u.objectId),
    userPrincipalNames: listed.map((u) => u.userPrincipalName),
    mails: listed.map((u) => u.mail),
    mailNicknames: listed.map((u) => u.mailNickname),
    employeeIds: listed.map(() => ""),
  };
}
