import { strict as assert } from "node:assert";
import * as decide from "../plan/decisions";
import type { MigrationPlan, PlannedUser } from "../plan/types";

const planned = (
  over: Partial<PlannedUser> & Pick<PlannedUser, "principalName" | "category">,
): PlannedUser => ({
  id: `u-${over.principalName}`,
  email: over.principalName.toLowerCase(),
  action: "",
  reason: "",
  ...over,
});
const plan = (users: PlannedUser[], blockers: MigrationPlan["blockers"] = []): MigrationPlan => ({
  organization: "fabrikam",
  tenantId: "t",
  phase: "prepare",
  summary: {} as MigrationPlan["summary"],
  users,
  blockers,
  warnings: [],
  notices: [],
});

describe("decisions: what a phase declares", () => {
  it("invites each address once, keeps earlier invitations, and leaves the temporary owner to its own", () => {
    const p = plan([
      planned({ principalName: "a@partner.org", category: "invite", displayName: "A" }),
      planned({ principalName: "b@partner.org", category: "mapAfterConnect" }),
      planned({ principalName: "temp@outlook.com", category: "invite" }),
      planned({ principalName: "c@partner.org", category: "tenantGuest" }),
    ]);
    assert.deepEqual(decide.invitees(p, new Set(["b@partner.org"]), "temp@outlook.com"), [
      { email: "a@partner.org", displayName: "A" },
      { email: "b@partner.org" },
    ]);
  });

  it("proposes a temporary account only when one is needed, none is set, and not yet connected", () => {
    const needs = plan([], [{ code: "TEMPORARY_OWNER_REQUIRED", message: "" }]);
    assert.equal(decide.proposesTemporaryOwner(needs, undefined, false), true);
    assert.equal(decide.proposesTemporaryOwner(needs, "temp@outlook.com", false), false);
    assert.equal(decide.proposesTemporaryOwner(needs, undefined, true), false);
    assert.equal(decide.proposesTemporaryOwner(plan([]), undefined, false), false);
  });

  const STAGES: [string, decide.PairingFacts, decide.PairingStage | undefined][] = [
    [
      "prepare",
      { phase: "prepare", temporaryOwner: "t", tenantUserExists: false, holdsInvitation: false },
      "member",
    ],
    [
      "connect",
      { phase: "connect", temporaryOwner: "t", tenantUserExists: true, holdsInvitation: true },
      "owner",
    ],
    [
      "resolve",
      { phase: "resolve", temporaryOwner: "t", tenantUserExists: true, holdsInvitation: true },
      "owner",
    ],
    [
      "no temporary owner",
      { phase: "connect", tenantUserExists: false, holdsInvitation: false },
      undefined,
    ],
    [
      "cleanup",
      { phase: "cleanup", temporaryOwner: "t", tenantUserExists: true, holdsInvitation: true },
      undefined,
    ],
    [
      "cleanup after its tenant user was deleted by hand",
      {
        phase: "cleanup",
        temporaryOwner: "t",
        recordedTenantUser: "o-t",
        tenantUserExists: false,
        holdsInvitation: true,
      },
      "forgetInvitation",
    ],
  ];
  for (const [name, facts, stage] of STAGES) {
    it(`declares the pairing at stage ${stage ?? "none"} in ${name}`, () => {
      assert.equal(decide.pairingStage(facts), stage);
    });
  }

  it("hands ownership back to the owner recorded when the temporary account was added", () => {
    const users = [
      { id: "u-owner", principalName: "owner@fabrikam.com", origin: "msa" },
      { id: "u-temp", principalName: "temp@outlook.com", origin: "msa" },
    ];
    assert.equal(decide.handBackTo(users, "u-temp", "u-owner", "u-temp"), "owner@fabrikam.com");
    assert.equal(decide.handBackTo(users, "u-owner", undefined, "u-temp"), "owner@fabrikam.com");
    assert.equal(
      decide.handBackTo(users, "u-temp", undefined, "u-temp"),
      undefined,
      "never the temporary account",
    );
  });

  it("connects as the temporary owner only in connect, once it owns the organization", () => {
    assert.equal(decide.connectingRole("connect", "owner"), "temporaryOwner");
    assert.equal(decide.connectingRole("connect", undefined), "owner");
    assert.equal(decide.connectingRole("resolve", "owner"), "owner");
  });

  it("declares mappings in resolve and cleanup, once connected, done ones included", () => {
    const mapped = (to: string, done: boolean): PlannedUser =>
      planned({
        principalName: `${to}-old@outlook.com`,
        category: "mapAfterConnect",
        mapping: { userId: to, from: `${to}-old`, to, done },
      });
    const p = plan([mapped("a@fabrikam.com", false), mapped("b@fabrikam.com", true)]);
    assert.deepEqual(
      decide.mappings(p, "resolve", true).map((m) => m.to),
      ["a@fabrikam.com", "b@fabrikam.com"],
    );
    assert.deepEqual(decide.mappings(p, "cleanup", true).length, 2);
    assert.deepEqual(decide.mappings(p, "connect", true), []);
    assert.deepEqual(decide.mappings(p, "resolve", false), []);
  });
});
