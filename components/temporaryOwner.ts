import type { InvitedUserType } from "../config/schema";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { PairingStage } from "../plan/decisions";
import { OrganizationOwner } from "../providers/organizationOwner";
import { OrganizationUser } from "../providers/organizationUser";
import { INVITATION_INPUTS } from "./tenantGuests";
import { RESOURCE_TYPES } from "./types";

export interface TemporaryOwnerArgs {
  /** Organization name. */
  readonly organization: pulumi.Input<string>;
  /** The temporary Microsoft account (created by a human at signup.live.com; there is no API). */
  readonly msaEmail: string;
  /** `Member` (default): today only active members may connect; inviting a member needs an administrator. */
  readonly userType?: InvitedUserType;
  /** Where the invitation redirects; usually the organization URL. */
  readonly redirectUrl: pulumi.Input<string>;
  /** Invitation email body; no email when undefined. */
  readonly message?: pulumi.Input<string>;
  /**
   * What the pairing holds (plan/decisions.ts): `member` (invited, added to the organization),
   * `owner` (and owner of the organization), `releaseInvitation` (only its invitation, so that its
   * next delete deletes the guest), or `forgetInvitation` (only its invitation, kept so
   * it is forgotten, not deleted, once its tenant user is gone). Default `member`.
   */
  readonly stage?: PairingStage;
  /** The owner to hand ownership back to (the organization's owner before the migration). */
  readonly handBackTo?: string;
  /**
   * Keep the invitation's tenant user when the invitation goes: it is not yet verified to be the
   * temporary account's own guest (a first run, or Entra answered with an existing user). Default
   * false.
   */
  readonly retainGuest?: boolean;
}

/**
 * The temporary owner MSA-guest pairing (docs/procedure.md#temporary-owner): the account is
 * invited to the tenant, added to the organization with a Basic license and, in `connect`, made
 * owner. Removing the component (the `cleanup` phase) unwinds it in dependency order: ownership is
 * handed back and verified, the user leaves the organization, then its tenant guest is deleted.
 */
export class TemporaryOwner extends pulumi.ComponentResource {
  public readonly msaEmail: pulumi.Output<string>;
  public readonly stage: PairingStage;
  /** The organization user id of the temporary account (not in the `forgetInvitation` stage). */
  public readonly userId?: pulumi.Output<string>;
  /** The tenant user created by the invitation. */
  public readonly tenantUserId: pulumi.Output<string>;
  /** The ownership change, in the `owner` stage. */
  public readonly ownership?: OrganizationOwner;

  constructor(name: string, args: TemporaryOwnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(RESOURCE_TYPES.temporaryOwner, name, {}, opts);
    this.stage = args.stage ?? "member";
    const forgetting = this.stage === "forgetInvitation";
    const invitationOnly = forgetting || this.stage === "releaseInvitation";
    const retained =
      forgetting || (this.stage !== "releaseInvitation" && args.retainGuest === true);
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
        // temporary account from the tenant. Nothing else may replace it (a replacement deletes
        // the user, maybe while it owns the organization); once its user is gone, or while it is
        // not known to be the account's own guest, it is only forgotten.
        ignoreChanges: INVITATION_INPUTS,
        retainOnDelete: retained,
        additionalSecretOutputs: ["redeemUrl"],
      },
    );
    this.msaEmail = pulumi.output(args.msaEmail);
    this.tenantUserId = invitation.userId;
    if (!invitationOnly) {
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
      this.userId = user.userId;
      if (this.stage === "owner") {
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
    }
    // Plain values only, so that the state records them at once, whatever later fails in the run:
    // the next run reads them back as what this stack declared (inventory/stack.ts). The ids are
    // in the invitation's and the user's own state.
    this.registerOutputs({
      msaEmail: args.msaEmail,
      // A forgotten invitation is not kept again.
      stage: this.stage,
      // Whether the invitation's last registration lets its delete delete the guest.
      guestDeletable: !retained,
    });
  }
}
