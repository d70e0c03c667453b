import { strict as assert } from "node:assert";
import { RESOURCE_TYPES as T } from "../components/types";
import { ledgerOf } from "../inventory/stack";
import { stackState, urn } from "./support/stackState";

const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
/** The temporary owner pairing the records below hold, as the ledger reads it. */
const RECORDED_PAIRING = {
  msaEmail: "fabrikam-migration@outlook.com",
  tenantUserId: "o-temp",
  userId: "u-temp",
  ownerBefore: "u-owner",
};
/** Each records a user this stack added, and the pairing's invitation. */
const PAIRING = {
  ...RECORDED_PAIRING,
  addedByThisStack: true,
  msaEmailConfirmed: true,
  invitationRecorded: true,
};
const OWNERSHIP = { ownerId: "u-temp", previousOwnerId: "u-owner" };

describe("the stack's ledger: what its resources recorded", () => {
  const resources = {
    [urn(`${T.tenantGuests}$${T.invitation}`, "guests-dev.someone@gmail.com")]: {
      type: T.invitation,
      // The provider's read rewrites userEmailAddress from the user's mail: the name keeps the address invited.
      outputs: { userEmailAddress: "Dev.Someone@Gmail.com", userId: "o-dev" },
    },
    [urn(`${T.temporaryOwner}$${T.invitation}`, "temporary-owner-invitation")]: {
      type: T.invitation,
      outputs: { userEmailAddress: "fabrikam-migration@outlook.com", userId: "O-TEMP" },
    },
    [urn(`${T.temporaryOwner}$${T.organizationUser}`, "temporary-owner-user")]: {
      type: T.organizationUser,
      outputs: {
        organization: "Fabrikam",
        principalName: "fabrikam-migration@outlook.com",
        userId: "U-TEMP",
        addedByThisStack: true,
        ownerBefore: "U-OWNER",
      },
    },
    [urn(`${T.temporaryOwner}$${T.organizationOwner}`, "temporary-owner-ownership")]: {
      type: T.organizationOwner,
      outputs: { organization: "fabrikam", ownerId: "u-temp", previousOwnerId: "u-owner" },
    },
    [urn(`${T.directoryConnection}$${T.tenantConnection}`, "directory-connection")]: {
      type: T.tenantConnection,
      outputs: { organization: "fabrikam", tenantId: "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B" },
    },
    [urn(T.userMapping, "map-jamal@outlook.com")]: {
      type: T.userMapping,
      outputs: { organization: "fabrikam", userId: "U-JAMAL", principalName: "jamal@fabrikam.com" },
    },
    [urn("pulumi:pulumi:Stack", "devops-entra-connect-dev")]: {
      type: "pulumi:pulumi:Stack",
      outputs: {},
    },
  };

  it("reads the guests invited, the temporary owner pairing, the ownership, the connection and the mappings", () => {
    const ledger = ledgerOf(resources);
    assert.deepEqual([...ledger.invited], ["dev.someone@gmail.com"]);
    assert.deepEqual([...ledger.invitedUserIds], [["dev.someone@gmail.com", "o-dev"]]);
    assert.deepEqual(ledger.temporaryOwner, PAIRING);
    assert.deepEqual(ledger.ownership, OWNERSHIP);
    assert.equal(ledger.connectedTenant, TENANT);
    assert.deepEqual(
      [...ledger.mapped],
      [["u-jamal", { from: "jamal@outlook.com", to: "jamal@fabrikam.com" }]],
    );
    assert.deepEqual(
      [...ledger.organizations],
      ["fabrikam"],
      "one organization, whatever the spelling",
    );
  });

  it("reads back the records a recorded state is built from (tests/support/stackState.ts)", () => {
    const ledger = ledgerOf(
      stackState({
        invited: ["partner@othercompany.com", "dev.someone@gmail.com"],
        temporaryOwner: RECORDED_PAIRING,
        ownership: OWNERSHIP,
        connectedTenant: TENANT,
      }),
    );
    assert.deepEqual(ledger, {
      organizations: new Set(["fabrikam"]),
      connectedTenant: TENANT,
      invited: new Set(["dev.someone@gmail.com", "partner@othercompany.com"]),
      invitedUserIds: new Map([
        ["dev.someone@gmail.com", "guest-dev.someone@gmail.com"],
        ["partner@othercompany.com", "guest-partner@othercompany.com"],
      ]),
      mapped: new Map(),
      temporaryOwner: PAIRING,
      ownership: OWNERSHIP,
    });
  });

  it("keeps an invitation whose user a refresh found gone, with an empty user id", () => {
    const ledger = ledgerOf({
      [urn(`${T.tenantGuests}$${T.invitation}`, "guests-partner@othercompany.com")]: {
        type: T.invitation,
        outputs: { userEmailAddress: "partner@othercompany.com", userId: "" },
      },
    });
    assert.deepEqual([...ledger.invitedUserIds], [["partner@othercompany.com", ""]]);
  });

  it("is empty for a new stack", () => {
    const ledger = ledgerOf({});
    assert.deepEqual(
      [ledger.invited.size, ledger.mapped.size, ledger.organizations.size],
      [0, 0, 0],
    );
    assert.equal(ledger.temporaryOwner, undefined);
  });
});
