import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { OrganizationOwner } from "../providers/organizationOwner";
import { OrganizationUser } from "../providers/organizationUser";

export interface TemporaryOwnerArgs {
  /** Organization name. */
  readonly organization: pulumi.Input<string>;
  /** The temporary Microsoft account (created by a human at signup.live.com; there is no API). */
  readonly msaEmail: string;
  /** `Member` (default): today only active members may connect; inviting a member needs an administrator. */
  readonly userType?: "Member" | "Guest";
  /** Where the invitation redirects; usually the organization URL. */
  readonly redirectUrl: pulumi.Input<string>;
  /** Invitation email body; no email when undefined. */
  readonly message?: pulumi.Input<string>;
  /** Make it the organization owner (the `connect` phase); default false. */
  readonly takeOwnership?: boolean;
  /** The owner to hand ownership back to (the organization's owner before the migration). */
  readonly handBackTo?: string;
}

/**
 * The temporary owner MSA-guest pairing (seed: "Determine which user is performing the connection";
 * DOMAIN §1.5): the account is invited to the tenant, added to the organization with a Basic
 * license and, in `connect`, made owner. Removing the component (the `cleanup` phase) unwinds it in
 * dependency order: ownership is handed back, the user leaves the organization, then its tenant
 * guest is deleted.
 */
export class TemporaryOwner extends pulumi.ComponentResource {
  public readonly msaEmail: pulumi.Output<string>;
  /** The organization user id of the temporary account. */
  public readonly userId: pulumi.Output<string>;
  /** The tenant user created by the invitation. */
  public readonly tenantUserId: pulumi.Output<string>;
  /** The ownership change, when `takeOwnership`. */
  public readonly ownership?: OrganizationOwner;

  constructor(name: string, args: TemporaryOwnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("devops-entra-connect:organization:TemporaryOwner", name, {}, opts);
    const invitation = new azuread.Invitation(
      `${name}-invitation`,
      {
        userEmailAddress: args.msaEmail,
        redirectUrl: args.redirectUrl,
        userType: args.userType ?? "Member",
        ...(args.message !== undefined ? { message: { body: args.message } } : {}),
      },
      {
        parent: this,
        // Unlike the users' guests, this one is meant to go: deleting it in `cleanup` removes the
        // temporary account from the tenant. Any other change must not replace it (a replacement
        // deletes the user, maybe while it owns the organization): the email-only inputs, and the
        // user type, which an administrator changes in Entra rather than by re-inviting.
        ignoreChanges: ["redirectUrl", "message", "userType"],
        additionalSecretOutputs: ["redeemUrl"],
      },
    );
    const user = new OrganizationUser(
      `${name}-user`,
      {
        organization: args.organization,
        principalName: args.msaEmail,
        license: "express",
        role: "owner",
      },
      { parent: this, dependsOn: [invitation] },
    );
    if (args.takeOwnership) {
      this.ownership = new OrganizationOwner(
        `${name}-ownership`,
        {
          organization: args.organization,
          ownerPrincipalName: args.msaEmail,
          // A Project Collection Administrator changes the owner both ways: the original owner.
          role: "owner",
          handBackRole: "owner",
          ...(args.handBackTo ? { handBackTo: args.handBackTo } : {}),
        },
        { parent: this, dependsOn: [user] },
      );
    }
    this.msaEmail = pulumi.output(args.msaEmail);
    this.userId = user.userId;
    this.tenantUserId = invitation.userId;
    this.registerOutputs({
      msaEmail: this.msaEmail,
      userId: this.userId,
      tenantUserId: this.tenantUserId,
    });
  }
}
