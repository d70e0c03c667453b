import { strict as assert } from "node:assert";
import { planMigration } from "../plan/plan";
import {
  type TenantStanding,
  blockersRefuse,
  connectionBlockers,
  standingBlockers,
} from "../plan/readiness";
import type { ReadinessInput } from "../plan/readiness";
import type { Finding } from "../plan/types";
import {
  ACTIVE_MEMBER,
  OWNER,
  TEMPORARY,
  migrationPlan,
  planInput,
  readinessInput,
} from "./support/planInput";

/** The reference world's plan: its owner needs a temporary owner to connect. */
const REFERENCE_PLAN = planMigration(planInput());
const PENDING: TenantStanding = { ...ACTIVE_MEMBER, externalUserState: "PendingAcceptance" };
const GUEST: TenantStanding = { kind: "guest", accountEnabled: true };
/** The temporary owner, invited, redeemed, in the organization, signed in, its token its own. */
const READY_TEMPORARY: ReadinessInput["temporaryOwner"] = {
  msaEmail: TEMPORARY.principalName,
  standing: ACTIVE_MEMBER,
  organizationUser: { id: TEMPORARY.id, signedIn: true },
  token: { id: TEMPORARY.id },
};

const codes = (findings: readonly Finding[]): string[] => findings.map((f) => f.code);

/** Each case: what differs from the defaults, and the blockers expected, in order. */
const CASES: [string, Partial<ReadinessInput>, string[]][] = [
  ["the owner, an active member, connects with their own token", {}, []],
  [
    "the reference owner, without a temporary owner configured",
    { plan: REFERENCE_PLAN },
    ["TEMPORARY_OWNER_REQUIRED", "TEMPORARY_OWNER_NOT_CONFIGURED"],
  ],
  [
    "the reference owner, with a temporary owner ready: its path lifts the owner's blocker",
    { plan: REFERENCE_PLAN, temporaryOwner: READY_TEMPORARY },
    [],
  ],
  [
    "a temporary owner configured but not prepared yet",
    {
      plan: REFERENCE_PLAN,
      temporaryOwner: { msaEmail: TEMPORARY.principalName, token: undefined },
    },
    [
      "TEMPORARY_OWNER_NOT_INVITED",
      "TEMPORARY_OWNER_NOT_IN_ORGANIZATION",
      "TOKEN_IDENTITY_MISMATCH",
    ],
  ],
  [
    "a temporary owner who has not redeemed, is a guest and never signed in",
    {
      temporaryOwner: {
        ...READY_TEMPORARY,
        standing: { ...GUEST, externalUserState: "PendingAcceptance" },
        organizationUser: { id: TEMPORARY.id, signedIn: false },
      },
    },
    [
      "TEMPORARY_OWNER_INVITATION_NOT_REDEEMED",
      "TEMPORARY_OWNER_IS_GUEST",
      "TEMPORARY_OWNER_NEVER_SIGNED_IN",
    ],
  ],
  [
    "the owner's token is the temporary account's",
    { temporaryOwner: READY_TEMPORARY, ownerToken: { id: TEMPORARY.id } },
    ["TOKEN_IDENTITY_MISMATCH"],
  ],
  ["the owner's token unset", { ownerToken: undefined }, ["TOKEN_IDENTITY_MISMATCH"]],
  [
    "the owner's token someone else's",
    { ownerToken: { id: "u-other", email: "someone@fabrikam.com" } },
    ["TOKEN_IDENTITY_MISMATCH"],
  ],
  [
    "the owner pending, a guest, disabled",
    { ownerStanding: { ...PENDING, kind: "guest", accountEnabled: false } },
    [
      "CONNECTING_USER_NOT_ACTIVE_MEMBER",
      "CONNECTING_USER_NOT_ACTIVE_MEMBER",
      "CONNECTING_USER_NOT_ACTIVE_MEMBER",
    ],
  ],
  [
    "TFVC in use",
    { plan: migrationPlan({ blockers: [{ code: "TFVC_IN_USE", message: "legacy" }] }) },
    ["TFVC_IN_USE"],
  ],
  [
    "TFVC, allowed by the operator",
    {
      plan: migrationPlan({ blockers: [{ code: "TFVC_IN_USE", message: "legacy" }] }),
      allowTfvc: true,
    },
    [],
  ],
];

describe("readiness: what stands between the organization and the connection", () => {
  for (const [name, over, expected] of CASES) {
    it(name, () => {
      assert.deepEqual(codes(connectionBlockers(readinessInput(over))), expected);
    });
  }

  it("names whose token is wrong and whom it must belong to", () => {
    const [mismatch] = connectionBlockers(
      readinessInput({ ownerToken: { id: "u-other", email: "someone@fabrikam.com" } }),
    );
    const expected = `devopsToken belongs to someone@fabrikam.com, not to ${OWNER.principalName} (the organization owner, who performs the connection)`;
    assert.ok(mismatch.message.includes(expected), mismatch.message);
  });

  it("keeps, once connected, only the blockers that guard the mappings; refuses connect before it, resolve and cleanup always", () => {
    const blockers: Finding[] = [
      { code: "TFVC_IN_USE", message: "" },
      { code: "MAPPING_TARGET_HELD", message: "" },
    ];
    assert.deepEqual(codes(standingBlockers(false, blockers)), [
      "TFVC_IN_USE",
      "MAPPING_TARGET_HELD",
    ]);
    assert.deepEqual(codes(standingBlockers(true, blockers)), ["MAPPING_TARGET_HELD"]);
    assert.deepEqual(
      [
        blockersRefuse("prepare", false),
        blockersRefuse("connect", false),
        blockersRefuse("connect", true),
        blockersRefuse("resolve", true),
        blockersRefuse("cleanup", true),
      ],
      [false, true, false, true, true],
    );
  });
});
