/**
 * TemporaryOwner alone under mocks, at each stage of the pairing (plan/decisions.ts): what it
 * declares, the order its pieces are created and unwound in (docs/procedure.md#temporary-owner),
 * and what it leaves in the state for the next run's ledger.
 */
import { strict as assert } from "node:assert";
import { TemporaryOwner, type TemporaryOwnerArgs } from "../../components/temporaryOwner";
import { ledgerOf } from "../../inventory/stack";
import { defaultUserId } from "../emulator/world";
import {
  PINNED_TYPES,
  WITH_TOKENS,
  assertInvitationOptions,
  declarations,
  type ConstructOptions,
  construct,
  declaredInputs,
  identities,
  tokensCarried,
} from "../support/componentRun";

const {
  temporaryOwner: COMPONENT,
  invitation: INVITATION,
  organizationUser: USER,
  organizationOwner: OWNERSHIP,
} = PINNED_TYPES;

const TEMPORARY = "fabrikam-migration@outlook.com";
const OWNER = "jamalhartnett@fabrikam.com";
const REDIRECT = "https://dev.azure.com/fabrikam";

const pairing = (args: Partial<TemporaryOwnerArgs> = {}, options: ConstructOptions = {}) =>
  construct(
    () =>
      new TemporaryOwner("temporary-owner", {
        organization: "fabrikam",
        msaEmail: TEMPORARY,
        redirectUrl: REDIRECT,
        ...args,
      }),
    options,
  );

describe("component TemporaryOwner", () => {
  describe("stage member (prepare)", () => {
    it("invites the account and adds it to the organization, under itself", async () => {
      const { self, children, mocks, component } = await pairing();
      assert.equal(self.type, COMPONENT);
      assert.equal(self.name, "temporary-owner");
      assert.deepEqual(identities(children), [
        `${INVITATION}::temporary-owner-invitation`,
        `${USER}::temporary-owner-user`,
      ]);
      assert.equal(
        mocks.registrations.length,
        children.length + 1,
        "nothing outside the component",
      );
      assert.equal(component.stage, "member");
      assert.equal(component.ownership, undefined);
    });

    it("invites as Member with no email by default, and adds the user with a Basic license", async () => {
      const { child } = await pairing();
      assert.deepEqual(declaredInputs(child(INVITATION, "temporary-owner-invitation")), {
        userEmailAddress: TEMPORARY,
        redirectUrl: REDIRECT,
        userType: "Member",
      });
      assert.deepEqual(declaredInputs(child(USER, "temporary-owner-user")), {
        organization: "fabrikam",
        principalName: TEMPORARY,
        license: "express",
        role: "owner",
      });
    });

    it("its invitation is deleted with the pairing, but nothing may replace it; the user waits for it", async () => {
      const { child, self } = await pairing();
      const invitation = child(INVITATION, "temporary-owner-invitation");
      assertInvitationOptions(invitation, { retainOnDelete: false, parent: self.urn });
      const user = child(USER, "temporary-owner-user");
      assert.deepEqual(user.options.dependsOn, [invitation.urn]);
      assert.equal(user.options.retainOnDelete, undefined, "removed from the organization");
      assert.equal(user.options.protect, undefined);
      assert.deepEqual(user.options.ignoreChanges, []);
    });

    it("registers its address, user, tenant user and stage, which the next run's ledger reads back", async () => {
      const { self, child, mocks } = await pairing();
      const tenantUserId = child(INVITATION, "temporary-owner-invitation").state.userId;
      const userId = child(USER, "temporary-owner-user").state.userId;
      assert.equal(typeof tenantUserId, "string");
      assert.equal(userId, defaultUserId(TEMPORARY));
      // Plain values only: the state holds them even when a later step of the run fails.
      assert.deepEqual(self.state, { msaEmail: TEMPORARY, stage: "member", guestDeletable: true });
      assert.deepEqual(ledgerOf(mocks.recordState()).temporaryOwner, {
        msaEmail: TEMPORARY,
        msaEmailConfirmed: true,
        invitationRecorded: true,
        guestDeletable: true,
        tenantUserId,
        userId,
        addedByThisStack: true,
        ownerBefore: defaultUserId(OWNER),
        stage: "member",
      });
    });

    it("with a message, sends it as the invitation email's body; invites as Guest when asked", async () => {
      const { child } = await pairing({ message: "For the migration", userType: "Guest" });
      const inputs = declaredInputs(child(INVITATION, "temporary-owner-invitation"));
      assert.deepEqual(inputs.message, { body: "For the migration" });
      assert.equal(inputs.userType, "Guest");
    });
  });

  describe("stage owner (connect, resolve)", () => {
    it("also makes the account owner, once it is a user; ownership is handed back first on removal", async () => {
      const { children, child, component } = await pairing({ stage: "owner", handBackTo: OWNER });
      assert.deepEqual(identities(children), [
        `${INVITATION}::temporary-owner-invitation`,
        `${USER}::temporary-owner-user`,
        `${OWNERSHIP}::temporary-owner-ownership`,
      ]);
      const invitation = child(INVITATION, "temporary-owner-invitation");
      const user = child(USER, "temporary-owner-user");
      const ownership = child(OWNERSHIP, "temporary-owner-ownership");
      // Created invitation → user → ownership; the engine deletes in the reverse order.
      assert.deepEqual(user.options.dependsOn, [invitation.urn]);
      assert.deepEqual(ownership.options.dependsOn, [user.urn]);
      assert.equal(ownership.options.retainOnDelete, undefined, "deleting hands ownership back");
      assert.ok(component.ownership);
      assert.equal(await new Promise((r) => component.ownership?.urn.apply(r)), ownership.urn);
    });

    it("changes the owner as the original owner and hands it back to the owner it names", async () => {
      const { child } = await pairing({ stage: "owner", handBackTo: OWNER });
      assert.deepEqual(declaredInputs(child(OWNERSHIP, "temporary-owner-ownership")), {
        organization: "fabrikam",
        ownerPrincipalName: TEMPORARY,
        role: "owner",
        handBackRole: "owner",
        handBackTo: OWNER,
      });
      const unnamed = await pairing({ stage: "owner" });
      assert.equal(
        "handBackTo" in declaredInputs(unnamed.child(OWNERSHIP, "temporary-owner-ownership")),
        false,
      );
    });

    it("registers stage owner with its user and tenant user", async () => {
      const { self, child } = await pairing({ stage: "owner", handBackTo: OWNER });
      assert.deepEqual(self.state, { msaEmail: TEMPORARY, stage: "owner", guestDeletable: true });
      assert.ok(child(USER, "temporary-owner-user").state.userId);
      assert.ok(child(INVITATION, "temporary-owner-invitation").state.userId);
    });

    it("declares the same pieces with the same options in a preview", async () => {
      const update = await pairing({ stage: "owner", handBackTo: OWNER });
      const preview = await pairing({ stage: "owner", handBackTo: OWNER }, { preview: true });
      assert.deepEqual(declarations(preview.children), declarations(update.children));
    });

    it("carries no credential, whatever the stack config and environment hold", async () => {
      const constructed = await pairing({ stage: "owner", handBackTo: OWNER }, WITH_TOKENS);
      assert.equal(constructed.children.length, 3);
      assert.deepEqual(tokensCarried(constructed), []);
    });
  });

  describe("stage forgetInvitation (cleanup, its tenant user already gone)", () => {
    it("keeps only its invitation, retained on delete so that it is forgotten, never deleted", async () => {
      const { children, child, component, self } = await pairing({ stage: "forgetInvitation" });
      assert.deepEqual(identities(children), [`${INVITATION}::temporary-owner-invitation`]);
      const invitation = child(INVITATION, "temporary-owner-invitation");
      assertInvitationOptions(invitation, { retainOnDelete: true, parent: self.urn });
      assert.equal(component.userId, undefined);
      assert.equal(component.ownership, undefined);
    });

    it("registers the stage, so that the next run leaves the invitation out", async () => {
      const { self, mocks } = await pairing({ stage: "forgetInvitation" });
      assert.deepEqual(Object.keys(self.state).sort(), ["guestDeletable", "msaEmail", "stage"]);
      assert.equal(self.state.guestDeletable, false);
      assert.equal(self.state.stage, "forgetInvitation");
      assert.equal(ledgerOf(mocks.recordState()).temporaryOwner?.stage, "forgetInvitation");
    });
  });
});
