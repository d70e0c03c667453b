import type { InvitedUserType } from "../config/schema";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { Invitee } from "../plan/decisions";
import { RESOURCE_TYPES } from "./types";

export type { Invitee };

/**
 * Every input of an invitation. The provider replaces the invitation, and so deletes the user,
 * when any of them changes (docs/entra.md#replacement), and its read rewrites
 * `userEmailAddress` from the user's `mail`, which can differ from the invited address (case, an
 * alias, a mail changed after redemption). None may replace a guest: a guest's invitation is
 * never changed once made.
 */
export const INVITATION_INPUTS = [
  "userEmailAddress",
  "redirectUrl",
  "userDisplayName",
  "userType",
  "message",
];

export interface TenantGuestsArgs {
  /** Organization users missing from the tenant, one invitation each. */
  readonly invitees: readonly Invitee[];
  /** Where the invitee lands after redeeming; usually the organization URL. */
  readonly redirectUrl: pulumi.Input<string>;
  /** `Guest` (default) or `Member`; Member needs a User or Global Administrator. */
  readonly userType?: pulumi.Input<InvitedUserType>;
  /** Invitation email body; no email is sent when undefined (Entra sends one exactly when a message is set). */
  readonly message?: pulumi.Input<string>;
}

/**
 * The tenant's B2B guests that this stack invites. Invitations are never deleted by the stack:
 * deleting an `azuread.Invitation` deletes the whole user from the tenant (docs/entra.md#delete;
 * Terraform azuread #851), which would lock the person out. Pre-existing tenant users are never
 * passed in.
 */
export class TenantGuests extends pulumi.ComponentResource {
  /** Sorted addresses invited by this stack: its ledger, read back on the next run. */
  public readonly invitedEmails: pulumi.Output<string[]>;
  /** The invitation per address. */
  public readonly invitations: ReadonlyMap<string, azuread.Invitation>;

  constructor(name: string, args: TenantGuestsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(RESOURCE_TYPES.tenantGuests, name, {}, opts);
    const invitations = new Map<string, azuread.Invitation>();
    for (const invitee of [...args.invitees].sort((a, b) => a.email.localeCompare(b.email))) {
      if (invitations.has(invitee.email)) {
        throw new pulumi.ResourceError(`${invitee.email} is listed twice in invitees`, this);
      }
      invitations.set(
        invitee.email,
        new azuread.Invitation(
          `${name}-${invitee.email}`,
          {
            userEmailAddress: invitee.email,
            redirectUrl: args.redirectUrl,
            userType: args.userType ?? "Guest",
            ...(invitee.displayName ? { userDisplayName: invitee.displayName } : {}),
            ...(args.message !== undefined ? { message: { body: args.message } } : {}),
          },
          {
            parent: this,
            // Leaving the program or `pulumi destroy` forgets the invitation but keeps the guest.
            retainOnDelete: true,
            ignoreChanges: INVITATION_INPUTS,
            // Anyone holding the redeem URL can redeem the invitation as that person.
            additionalSecretOutputs: ["redeemUrl"],
          },
        ),
      );
    }
    this.invitations = invitations;
    // The addresses invited, as named: the invitations' `userEmailAddress` is the guest's mail as
    // Entra reads it back, which may be spelled otherwise or be empty (docs/entra.md#read). Known
    // once every invitation is registered.
    const invited = [...invitations.keys()].sort();
    this.invitedEmails = pulumi
      .all([...invitations.values()].map((i) => i.urn))
      .apply(() => invited);
    this.registerOutputs({ invitedEmails: this.invitedEmails });
  }
}
