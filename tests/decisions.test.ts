import { strict as assert } from "node:assert";
import * as decide from "../plan/decisions";
import { indexTenant } from "../plan/match";
import type { MigrationPlan, PlannedUser } from "../plan/types";
import {
  OWNER,
  TEMPORARY,
  guest,
  migrationPlan,
  pairingFacts,
  plannedUser as planned,
} from "./support/planInput";

const plan = (users: PlannedUser[], blockers: MigrationPlan["blockers"] = []) =>
  migrationPlan({ users, blockers });

describe("decisions: what a phase declares", () => {
  it("invites each address once, keeps earlier invitations, and leaves the temporary owner to its own", () => {
    const p = plan([
      planned("a@partner.org", "invite", { displayName: "A" }),
      planned("b@partner.org", "mapAfterConnect"),
      planned("temp@outlook.com", "invite"),
      planned("c@partner.org", "tenantGuest"),
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

  const T = TEMPORARY.principalName;
  /** The stack holds the pairing's invitation, whose tenant user is the account's own guest. */
  const held = { temporaryOwner: T, guestIsOwn: true, holdsInvitation: true };
  const STAGES: [string, decide.PairingFacts, decide.PairingStage | undefined][] = [
    ["prepare", pairingFacts({ temporaryOwner: T }), "member"],
    ["connect", pairingFacts({ ...held, phase: "connect" }), "owner"],
    ["resolve", pairingFacts({ ...held, phase: "resolve" }), "owner"],
    ["no temporary owner", pairingFacts({ phase: "connect" }), undefined],
    ["cleanup", pairingFacts({ ...held, phase: "cleanup" }), undefined],
    [
      "cleanup after its tenant user was deleted by hand",
      pairingFacts({ ...held, phase: "cleanup", guestIsOwn: false }),
      "forgetInvitation",
    ],
    [
      "cleanup, once the forgotten invitation was declared",
      pairingFacts({
        ...held,
        phase: "cleanup",
        guestIsOwn: false,
        recordedStage: "forgetInvitation",
      }),
      undefined,
    ],
    [
      "prepare after msaEmail was removed",
      pairingFacts({ ...held, temporaryOwner: undefined }),
      undefined,
    ],
    [
      "prepare after msaEmail was removed, its guest not its own",
      pairingFacts({ ...held, temporaryOwner: undefined, guestIsOwn: false }),
      "forgetInvitation",
    ],
  ];

  describe("the temporary owner's guest is its own only when it answers to the address invited", () => {
    const tenant = indexTenant([guest(T), { ...guest("robin@contoso.com"), objectId: "o-robin" }]);
    const CASES: [string, string | undefined, string | undefined, boolean][] = [
      ["its own guest", `o-${T}`, T, true],
      ["an existing user Entra answered with", "o-robin", T, false],
      ["a user that is gone", "o-gone", T, false],
      ["no recorded user (a first run)", undefined, T, false],
      ["no trustworthy address", `o-${T}`, undefined, false],
    ];
    for (const [name, id, address, own] of CASES) {
      it(`${name}: ${own ? "own" : "not own, kept out of deletes"}`, () => {
        assert.equal(decide.temporaryGuestIsOwn(tenant, id, address), own);
      });
    }
    it("trusts a recorded address only when the stack declared it, not the invitation's output", () => {
      assert.equal(decide.invitedTemporaryAddress(T, undefined), T);
      assert.equal(
        decide.invitedTemporaryAddress(undefined, { msaEmail: T, msaEmailConfirmed: true }),
        T,
      );
      assert.equal(
        decide.invitedTemporaryAddress(undefined, {
          msaEmail: "robin@contoso.com",
          msaEmailConfirmed: false,
        }),
        undefined,
      );
    });
  });
  for (const [name, facts, stage] of STAGES) {
    it(`declares the pairing at stage ${stage ?? "none"} in ${name}`, () => {
      assert.equal(decide.pairingStage(facts), stage);
    });
  }

  it("hands ownership back to the owner recorded when the temporary account was added", () => {
    const users = [OWNER, TEMPORARY];
    const [owner, temp] = [OWNER.id, TEMPORARY.id];
    assert.equal(decide.handBackTo(users, temp, owner, temp), OWNER.principalName);
    assert.equal(decide.handBackTo(users, owner, undefined, temp), OWNER.principalName);
    assert.equal(
      decide.handBackTo(users, temp, undefined, temp),
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
      planned(`${to}-old@outlook.com`, "mapAfterConnect", {
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
