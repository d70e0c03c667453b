import { strict as assert } from "node:assert";
import { GuardFacts, refusals } from "../plan/guards";
import type { PlanUser, TenantIdentity } from "../plan/types";

const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const OTHER = "11111111-2222-3333-4444-555555555555";
const owner: PlanUser = { id: "u-owner", principalName: "owner@fabrikam.com", origin: "msa" };
const temporary: PlanUser = {
  id: "u-temp",
  principalName: "fabrikam-migration@outlook.com",
  origin: "msa",
};
const member = (upn: string): TenantIdentity => ({
  objectId: `o-${upn}`,
  userPrincipalName: upn,
  kind: "member",
});

function facts(over: Partial<GuardFacts> = {}): GuardFacts {
  return {
    phase: "prepare",
    organization: "fabrikam",
    tenantId: TENANT,
    signedInTenantId: TENANT,
    organizationTenantId: null,
    ownerId: owner.id,
    users: [owner],
    tenantUsers: [member("owner@fabrikam.com")],
    ledger: { organizations: new Set() },
    ...over,
  };
}

/** Each case: the facts, and a pattern of the one refusal expected (undefined: the run may go). */
const CASES: [string, Partial<GuardFacts>, RegExp | undefined][] = [
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
    { ledger: { organizations: new Set(), connectedTenant: OTHER } },
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
      tenantUsers: [
        {
          objectId: "o-t",
          userPrincipalName: "fabrikam-migration_outlook.com#EXT#@fabrikam.onmicrosoft.com",
          mail: "fabrikam-migration@outlook.com",
          kind: "guest",
        },
      ],
    },
    /is already an identity of the tenant \(fabrikam-migration_outlook\.com#EXT#@fabrikam\.onmicrosoft\.com\)/,
  ],
  [
    "a temporary owner this stack created",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      users: [owner, temporary],
      ledger: {
        organizations: new Set(),
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
        organizations: new Set(),
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com" },
      },
    },
    /holds the temporary owner fabrikam-migration@outlook\.com, but devops-entra-connect:temporaryOwner\.msaEmail is other@outlook\.com/,
  ],
  [
    "the temporary owner removed in cleanup (that is how the pairing goes)",
    {
      phase: "cleanup",
      organizationTenantId: TENANT,
      ledger: {
        organizations: new Set(),
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
        organizations: new Set(),
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          userId: temporary.id,
          ownerBefore: owner.id,
        },
      },
    },
    /owned by the temporary account fabrikam-migration@outlook\.com, but this stack holds no record of that change.*the prepare phase would not hand it back\. Hand ownership back in the portal.*to owner@fabrikam\.com, then run again; or set devops-entra-connect:phase back to connect and run again/,
  ],
  ...(["connect", "resolve"] as const).map(
    (phase): [string, Partial<GuardFacts>, RegExp | undefined] => [
      `ownership with the temporary account and no record of the change, in ${phase}: its ownership resource takes it over`,
      {
        phase,
        ...(phase === "resolve" ? { organizationTenantId: TENANT } : {}),
        temporaryOwner: "fabrikam-migration@outlook.com",
        ownerId: temporary.id,
        users: [owner, temporary],
        ledger: {
          organizations: new Set(),
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
      organizationTenantId: TENANT,
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        organizations: new Set(),
        temporaryOwner: {
          msaEmail: "fabrikam-migration@outlook.com",
          userId: temporary.id,
          ownerBefore: owner.id,
        },
      },
    },
    /the cleanup phase would not hand it back\. Hand ownership back in the portal.*to owner@fabrikam\.com, then run again; or set devops-entra-connect:phase back to resolve/,
  ],
  [
    "ownership with the temporary account and no record of who owned the organization before, in connect",
    {
      phase: "connect",
      temporaryOwner: "fabrikam-migration@outlook.com",
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        organizations: new Set(),
        temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com", userId: temporary.id },
      },
    },
    /the connect phase would not hand it back\. Hand ownership back in the portal.*to the original owner, then run again\.$/,
  ],
  [
    "ownership with the temporary account, recorded",
    {
      temporaryOwner: "fabrikam-migration@outlook.com",
      ownerId: temporary.id,
      users: [owner, temporary],
      ledger: {
        organizations: new Set(),
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
