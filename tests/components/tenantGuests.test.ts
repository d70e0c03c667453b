/**
 * TenantGuests alone under mocks: the invitations it declares, the options that keep every guest
 * (docs/entra.md#delete, #replacement) and the ledger it leaves in the state.
 */
import { strict as assert } from "node:assert";
import { TenantGuests, type TenantGuestsArgs } from "../../components/tenantGuests";
import { ledgerOf } from "../../inventory/stack";
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

const { tenantGuests: COMPONENT, invitation: INVITATION } = PINNED_TYPES;
import { fixture } from "../support/fixture";

const REDIRECT = "https://dev.azure.com/fabrikam";
/** The reference world's two users to invite, out of order on purpose. */
const INVITEES = [
  { email: "partner@othercompany.com", displayName: "Pat Partner" },
  { email: "dev.someone@gmail.com" },
];

const guests = (args: Partial<TenantGuestsArgs> = {}, options: ConstructOptions = {}) =>
  construct(
    () => new TenantGuests("guests", { invitees: INVITEES, redirectUrl: REDIRECT, ...args }),
    options,
  );

describe("component TenantGuests", () => {
  it("declares one invitation per invitee under itself, sorted by address and named guests-<address>", async () => {
    const { self, children, mocks, component } = await guests();
    assert.equal(self.type, COMPONENT);
    assert.equal(self.name, "guests");
    assert.deepEqual(identities(children), [
      `${INVITATION}::guests-dev.someone@gmail.com`,
      `${INVITATION}::guests-partner@othercompany.com`,
    ]);
    assert.equal(mocks.registrations.length, children.length + 1, "nothing outside the component");
    assert.deepEqual(
      [...component.invitations.keys()],
      ["dev.someone@gmail.com", INVITEES[0].email],
    );
  });

  it("keeps every guest: retained on delete, no input can replace it, its redeem URL a secret", async () => {
    const { children, self } = await guests({ message: "Welcome", userType: "Member" });
    for (const invitation of children) {
      assertInvitationOptions(invitation, { retainOnDelete: true, parent: self.urn });
    }
  });

  it("invites as Guest by default, with the display name when known, and asks Entra for no email without a message", async () => {
    const { child } = await guests();
    assert.deepEqual(declaredInputs(child(INVITATION, "guests-partner@othercompany.com")), {
      userEmailAddress: "partner@othercompany.com",
      redirectUrl: REDIRECT,
      userType: "Guest",
      userDisplayName: "Pat Partner",
    });
    assert.deepEqual(declaredInputs(child(INVITATION, "guests-dev.someone@gmail.com")), {
      userEmailAddress: "dev.someone@gmail.com",
      redirectUrl: REDIRECT,
      userType: "Guest",
    });
  });

  it("with a message, sends it as the invitation email's body; invites as Member when asked", async () => {
    const { child } = await guests({ message: "Welcome to Fabrikam", userType: "Member" });
    const inputs = declaredInputs(child(INVITATION, "guests-dev.someone@gmail.com"));
    assert.deepEqual(inputs.message, { body: "Welcome to Fabrikam" });
    assert.equal(inputs.userType, "Member");
  });

  it("registers the sorted invited addresses as its output, and the next run's ledger reads them back", async () => {
    const { self, mocks, component } = await guests();
    const sorted = ["dev.someone@gmail.com", "partner@othercompany.com"];
    assert.deepEqual(self.state, { invitedEmails: sorted });
    assert.deepEqual([...ledgerOf(mocks.recordState()).invited], sorted);
    assert.deepEqual(
      await new Promise((resolve) => component.invitedEmails.apply(resolve)),
      sorted,
    );
  });

  it("registers the address it invited even when Entra spells the guest's mail otherwise", async () => {
    // Inviting an existing guest returns that user; the provider then reads back its mail.
    const world = fixture();
    const gus = world.tenant.users.find((u) => u.mail === "guest@contoso.com");
    assert.ok(gus);
    gus.mail = "Guest@Contoso.com"; // a case change at redemption
    const { self, mocks } = await guests({ invitees: [{ email: "guest@contoso.com" }] }, { world });
    assert.deepEqual(self.state, { invitedEmails: ["guest@contoso.com"] });
    assert.deepEqual([...ledgerOf(mocks.recordState()).invited], ["guest@contoso.com"]);
  });

  it("with nobody to invite, declares nothing and registers an empty list", async () => {
    const { children, self } = await guests({ invitees: [] });
    assert.deepEqual(children, []);
    assert.deepEqual(self.state, { invitedEmails: [] });
  });

  it("refuses an address listed twice", async () => {
    await assert.rejects(
      guests({ invitees: [...INVITEES, { email: "dev.someone@gmail.com", displayName: "Dev" }] }),
      /dev\.someone@gmail\.com is listed twice in invitees/,
    );
  });

  it("declares the same invitations with the same options in a preview", async () => {
    const update = await guests({ message: "Welcome" });
    const preview = await guests({ message: "Welcome" }, { preview: true });
    assert.deepEqual(declarations(preview.children), declarations(update.children));
  });

  it("carries no credential, whatever the stack config and environment hold", async () => {
    const constructed = await guests({}, WITH_TOKENS);
    assert.equal(constructed.children.length, 2);
    assert.deepEqual(tokensCarried(constructed), []);
  });
});
