import { strict as assert } from "node:assert";
import { refusals } from "../plan/guards";
import {
  OTHER_TENANT as OTHER,
  OWNER as owner,
  REFERENCE,
  TEMPORARY as temporary,
  type GuardFactsOverrides,
  guardFacts as facts,
  guest,
} from "./support/planInput";

/** Each case: the facts, and a pattern of the one refusal expected (undefined: the run may go). */
const CASES: [string, GuardFactsOverrides, RegExp | undefined][] = [
  ["a new stack on an MSA-backed organization", {}, undefined],
  [
    "azuread signed in to another tenant",
    { signedInTenantId: OTHER },
    /azuread provider is signed in to tenant 11111111/,
  ],
  [
    "connected elsewhere, in connect",
    { phase: "connect", organizationTenantId: OTHER },
    /connected to tenant 11111111.*does not move organizations between tenants/,
  ],
  [
    "connected elsewhere, in prepare (reported as a blocker instead)",
    { organizationTenantId: OTHER },
    undefined,
  ],
  [
    "resolve before the connection",
    { phase: "resolve" },
    /phase is resolve, but the organization is not connected/,
  ],
  [
    "another organization in the stack's state",
    { ledger: { organizations: new Set(["contoso"]) } },
    /organization is fabrikam, but this stack's resources are for contoso/,
  ],
  [
    "the same organization in the state",
    { ledger: { organizations: new Set(["fabrikam"]) } },
    undefined,
  ],
  [
    "another tenant connected by this stack",
    { ledger: { connectedTenant: OTHER } },
    /this stack connected the organization to 11111111/,
  ],
  [
    "a temporary owner who is already a user of the organization",
    { temporaryOwner: "fabrikam-migration@outlook.com", users: [owner, temporary] },
    /msaEmail fabrikam-migration@outlook\.com is already a user of the organization/,
  ],
  [
    "a temporary owner who is a pending guest someone else invited",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      tenantUsers: [guest("fabrikam-migration@outlook.com")],
    },
    /is already an identity of the tenant \(fabrikam-migration_outlook\.com#EXT#@fabrikam\.onmicrosoft\.com\)/,
  ],
  [
    "a temporary owner this stack created",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      users: [owner, temporary],
      ledger: {
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com", userId: temporary.id },
      },
    },
    undefined,
  ],
  [
    "the temporary owner changed mid-migration",
    {
      phase: "connect",
      temporaryOwner: "other@outlook.com",
      ledger: {
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com" },
      },
    },
    /holds the temporary owner fabrikam-migration@outlook\.com, but devops-entra-connect:temporaryOwner\.msaEmail is other@outlook\.com/,
  ],
  [
    "the temporary owner removed in cleanup (that is how the pairing goes)",
    {
      phase: "cleanup",
      organizationTenantId: REFERENCE.tenantId,
      ledger: {
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com" },
      },
    },
    undefined,
  ],
  [
    "ownership with the temporary account and no record of the change",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          userId: temporary.id,
          ownerBefore: owner.id,
        },
      },
    },
    /owned by the temporary account fabrikam-migration@outlook\.com, but this stack holds no record of that change.*the prepare phase would not hand it back\. Hand ownership back in the portal.*to jamalhartnett@fabrikam\.com, then run again; or set devops-entra-connect:phase back to connect and run again/,
  ],
  ...(["connect", "resolve"] as const).map(
    (phase): [string, GuardFactsOverrides, RegExp | undefined] => [
      `ownership with the temporary account and no record of the change, in ${phase}: its ownership resource takes it over`,
      {
        phase,
        ...(phase === "resolve" ? { organizationTenantId: REFERENCE.tenantId } : {}),
        temporaryOwner: "fabrikam-migration@outlook.com",
        ownerId: temporary.id,
        users: [owner, temporary],
        ledger: {
          temporaryOwner: {
            msaEmail: "fabrikam-migration@outlook.com",
            userId: temporary.id,
            ownerBefore: owner.id,
          },
        },
      },
      undefined,
    ],
  ),
  [
    "ownership with the temporary account and no record of the change, in cleanup once connected",
    {
      phase: "cleanup",
      organizationTenantId: REFERENCE.tenantId,
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          userId: temporary.id,
          ownerBefore: owner.id,
        },
      },
    },
    /the cleanup phase would not hand it back\. Hand ownership back in the portal.*to jamalhartnett@fabrikam\.com, then run again; or set devops-entra-connect:phase back to resolve/,
  ],
  [
    "ownership with the temporary account and no record of who owned the organization before, in connect",
    {
      phase: "connect",
      temporaryOwner: "fabrikam-migration@outlook.com",
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com", userId: temporary.id },
      },
    },
    /the connect phase would not hand it back\. Hand ownership back in the portal.*to the original owner, then run again\.$/,
  ],
  [
    "a temporary owner whose invitation Entra answered with an existing user, in connect",
    {
      phase: "connect",
      temporaryOwner: "fabrikam-migration@outlook.com",
      tenantUsers: [guest("robin@contoso.com")],
      ledger: {
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          msaEmailConfirmed: true,
          tenantUserId: "o-robin@contoso.com",
        },
      },
    },
    /invitation of fabrikam-migration@outlook\.com was answered by Entra with an existing user of the tenant, robin_contoso\.com#EXT#@.*This stack never deletes it.*`pulumi config rm --path devops-entra-connect:temporaryOwner\.msaEmail` and `pulumi up` in the prepare phase/,
  ],
  [
    "a temporary owner whose invitation Entra answered with an existing user, in prepare (kept out of deletes instead)",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      tenantUsers: [guest("robin@contoso.com")],
      ledger: {
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          msaEmailConfirmed: true,
          tenantUserId: "o-robin@contoso.com",
        },
      },
    },
    undefined,
  ],
  [
    "a temporary owner known only by its invitation's output, configured otherwise, in prepare",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      tenantUsers: [guest("robin@contoso.com")],
      ledger: {
        temporaryOwner: {
          msaEmail: "robin@contoso.com",
          msaEmailConfirmed: false,
          tenantUserId: "o-robin@contoso.com",
        },
      },
    },
    /invitation whose user reads robin@contoso\.com \(an existing user's address, if Entra answered with one\); to use another account, undo this pairing first/,
  ],
  [
    "a temporary owner configured as the address its invitation's output reads, unconfirmed (Entra's record, maybe someone else's)",
    {
      temporaryOwner: "robin@contoso.com",
      tenantUsers: [guest("robin@contoso.com")],
      ledger: {
        temporaryOwner: {
          msaEmail: "robin@contoso.com",
          msaEmailConfirmed: false,
          tenantUserId: "o-robin@contoso.com",
        },
      },
    },
    /msaEmail robin@contoso\.com is already an identity of the tenant/,
  ],
  [
    "a temporary owner whose invitation created its own guest",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      tenantUsers: [guest("fabrikam-migration@outlook.com")],
      ledger: {
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          tenantUserId: "o-fabrikam-migration@outlook.com",
        },
      },
    },
    undefined,
  ],
  [
    "a temporary owner whose guest someone deleted by hand, in cleanup",
    {
      phase: "cleanup",
      organizationTenantId: REFERENCE.tenantId,
      temporaryOwner: "fabrikam-migration@outlook.com",
      ledger: {
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          tenantUserId: "o-fabrikam-migration@outlook.com",
        },
      },
    },
    undefined,
  ],
  [
    "a recorded temporary owner changed in connect",
    {
      phase: "connect",
      temporaryOwner: "other-account@outlook.com",
      ledger: { temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com" } },
    },
    /holds the temporary owner fabrikam-migration@outlook\.com, but .*msaEmail is other-account@outlook\.com\. The pairing is undone only by the cleanup phase/,
  ],
  [
    "a recorded temporary owner removed in prepare, before the connection (undoes the pairing)",
    { ledger: { temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com" } } },
    undefined,
  ],
  [
    "a recorded temporary owner changed in prepare, before the connection",
    {
      temporaryOwner: "other-account@outlook.com",
      ledger: { temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com" } },
    },
    /undo this pairing first: `pulumi config rm --path devops-entra-connect:temporaryOwner\.msaEmail`/,
  ],
  [
    "a recorded temporary owner removed in prepare while it owns the organization",
    {
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com", userId: temporary.id },
        ownership: { ownerId: temporary.id, previousOwnerId: owner.id },
      },
    },
    /The pairing is undone only by the cleanup phase/,
  ],
  [
    "ownership with the temporary account, recorded",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com", userId: temporary.id },
        ownership: { ownerId: temporary.id, previousOwnerId: owner.id },
      },
    },
    undefined,
  ],
];

describe("guards: what refuses a run in every phase", () => {
  for (const [name, over, expected] of CASES) {
    it(expected ? `refuses ${name}` : `lets ${name} go`, () => {
      const reasons = refusals(facts(over));
      if (expected === undefined) assert.deepEqual(reasons, []);
      else {
        assert.equal(reasons.length, 1, reasons.join("\n"));
        assert.match(reasons[0], expected);
      }
    });
  }
});
