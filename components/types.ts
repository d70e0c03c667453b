/**
 * Every resource type the program registers, by its type token. The tokens never change: a
 * renamed token would replace every resource of that type in existing stacks. The dynamic
 * providers' tokens are `pulumi-nodejs:dynamic/<module>:<type>` with the module below.
 */

/** The `module` the dynamic resources pass to Pulumi; part of their type tokens. */
export const DYNAMIC_MODULE = "devops-entra-connect";

export const RESOURCE_TYPES = {
  tenantGuests: "devops-entra-connect:entra:TenantGuests",
  temporaryOwner: "devops-entra-connect:organization:TemporaryOwner",
  directoryConnection: "devops-entra-connect:organization:DirectoryConnection",
  invitation: "azuread:index/invitation:Invitation",
  randomPet: "random:index/randomPet:RandomPet",
  organizationUser: `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:OrganizationUser`,
  organizationOwner: `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:OrganizationOwner`,
  tenantConnection: `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:TenantConnection`,
  userMapping: `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:UserMapping`,
} as const;
