import { strict as assert } from "node:assert";
import type { Phase } from "../config/schema";
import { BILLING_LINKS } from "../plan/billing";
import { manualSteps } from "../plan/communication";
import { planMigration } from "../plan/plan";
import { refusingBlockers } from "../plan/readiness";
import { renderReport, REPORT_ROWS_PER_CATEGORY } from "../plan/report";
import type { BillingReading, Category, MigrationPlan, PlanInput, PlanUser } from "../plan/types";
import {
  OTHER_TENANT,
  REFERENCE,
  billingInOtherDirectory,
  guest,
  member,
  orgUser as user,
  planInput as input,
  runFacts,
} from "./support/planInput";

function categoryOf(plan: MigrationPlan, principalName: string): Category {
  const found = plan.users.find((u) => u.principalName === principalName);
  assert.ok(found, `${principalName} is in the plan`);
  return found.category;
}
const codes = (findings: readonly { code: string }[]): string[] =>
  findings.map((f) => f.code).sort();

describe("migration plan", () => {
  describe("classification", () => {
    const owner = user("jamalhartnett@fabrikam.com");
    const users = [
      owner,
      user("  Sam.Taylor@Fabrikam.COM "),
      user("ada.lovelace@fabrikam.com", { mailAddress: "Ada.Lovelace@fabrikam.com" }),
      user("guest@contoso.com"),
      user("partner@othercompany.com"),
      user("dev.someone@gmail.com"),
      user("olduser@fabrikam.com"),
      user("gone@fabrikam.com"),
      user("Leaver@OtherCompany.com"),
      user("jamal@outlook.com"),
      user("redeemed@partner.org"),
    ];
    const plan = planMigration(
      input({
        ownerId: owner.id,
        users,
        tenant: {
          users: [
            member("jamalhartnett@fabrikam.com"),
            member("sam.taylor@fabrikam.com"),
            member("alovelace@fabrikam.com", "ada.lovelace@fabrikam.com"),
            guest("guest@contoso.com"),
            guest("redeemed@partner.org"),
            member("jamal@fabrikam.com"),
          ],
          verifiedDomains: ["fabrikam.com"],
        },
        identityChanges: new Map([["jamal@outlook.com", "jamal@fabrikam.com"]]),
        acceptHistoricUsers: new Set(["gone@fabrikam.com"]),
        excludeUsers: new Set(["leaver@othercompany.com"]),
        previouslyInvited: new Set(["redeemed@partner.org"]),
      }),
    );

    const expected: [string, Category, string][] = [
      ["jamalhartnett@fabrikam.com", "tenantMember", "none"],
      ["  Sam.Taylor@Fabrikam.COM ", "tenantMember", "none"],
      // A match by mail only: the connection binds by sign-in name, so it is mapped afterwards.
      [
        "ada.lovelace@fabrikam.com",
        "mapAfterConnect",
        "map to alovelace@fabrikam.com in the resolve phase",
      ],
      ["guest@contoso.com", "tenantGuest", "none"],
      ["partner@othercompany.com", "invite", "invite as Guest"],
      ["dev.someone@gmail.com", "invite", "invite as Guest"],
      ["olduser@fabrikam.com", "historic", "blocked"],
      ["gone@fabrikam.com", "acceptedHistoric", "none: becomes historic"],
      ["Leaver@OtherCompany.com", "excluded", "none: left out of the migration"],
      ["jamal@outlook.com", "mapAfterConnect", "map to jamal@fabrikam.com in the resolve phase"],
      ["redeemed@partner.org", "invite", "invite as Guest"],
    ];
    for (const [name, category, action] of expected) {
      it(`puts ${name.trim()} in ${category}`, () => {
        const u = plan.users.find((p) => p.principalName === name);
        assert.ok(u);
        assert.equal(u.category, category);
        assert.ok(u.action.startsWith(action), `action "${u.action}" starts with "${action}"`);
      });
    }

    it("matches across case and whitespace and reports the tenant identity", () => {
      const sam = plan.users.find((u) => u.principalName.includes("Sam"));
      assert.equal(sam?.email, "sam.taylor@fabrikam.com");
      assert.equal(sam?.tenantIdentity, "sam.taylor@fabrikam.com");
      const ada = plan.users.find((u) => u.principalName.startsWith("ada"));
      assert.equal(ada?.tenantIdentity, "alovelace@fabrikam.com");
      assert.match(
        ada?.reason ?? "",
        /alovelace@fabrikam\.com has its address, but signs in as alovelace@fabrikam\.com: the connection leaves the user disconnected/,
      );
    });

    it("counts every category in the summary", () => {
      assert.deepEqual(plan.summary, {
        tenantMember: 2,
        tenantGuest: 1,
        invite: 3,
        mapAfterConnect: 2,
        supportTicket: 0,
        acceptedHistoric: 1,
        excluded: 1,
        historic: 1,
      });
      assert.equal(plan.users.length, users.length);
    });

    it("blocks on the historic user, the excluded user still there, and the owner needing a temporary owner", () => {
      assert.deepEqual(codes(plan.blockers), [
        "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
        "HISTORIC_USERS_NOT_ACCEPTED",
        "TEMPORARY_OWNER_REQUIRED",
      ]);
      assert.deepEqual(
        plan.blockers.find((b) => b.code === "EXCLUDED_USERS_STILL_IN_ORGANIZATION")?.users,
        ["Leaver@OtherCompany.com"],
      );
      const historic = plan.blockers.find((b) => b.code === "HISTORIC_USERS_NOT_ACCEPTED");
      assert.deepEqual(historic?.users, ["olduser@fabrikam.com"]);
      assert.match(historic?.message ?? "", /^1 user\(s\) would become historic/);
    });

    it("plans the identity change as a mapping, not a support ticket", () => {
      assert.deepEqual(codes(plan.warnings), ["IDENTITY_MAPPINGS_PLANNED"]);
      const jamal = plan.users.find((u) => u.principalName === "jamal@outlook.com");
      assert.deepEqual(jamal?.mapping, {
        userId: jamal?.mapping?.userId,
        from: "jamal@outlook.com",
        to: "jamal@fabrikam.com",
        originId: "o-jamal@fabrikam.com",
        done: false,
      });
      assert.match(
        plan.warnings.find((w) => w.code === "IDENTITY_MAPPINGS_PLANNED")?.message ?? "",
        /2 user\(s\) will be mapped to their Entra identity in the resolve phase.*jamal@outlook\.com → jamal@fabrikam\.com/,
      );
    });

    it("is deterministic and sorted whatever the input order", () => {
      const again = planMigration(
        input({
          ownerId: owner.id,
          users: [...users].reverse(),
          tenant: {
            users: [
              member("jamal@fabrikam.com"),
              guest("redeemed@partner.org"),
              guest("guest@contoso.com"),
              member("alovelace@fabrikam.com", "ada.lovelace@fabrikam.com"),
              member("sam.taylor@fabrikam.com"),
              member("jamalhartnett@fabrikam.com"),
            ],
            verifiedDomains: ["fabrikam.com"],
          },
          identityChanges: new Map([["jamal@outlook.com", "jamal@fabrikam.com"]]),
          acceptHistoricUsers: new Set(["gone@fabrikam.com"]),
          excludeUsers: new Set(["leaver@othercompany.com"]),
          previouslyInvited: new Set(["redeemed@partner.org"]),
        }),
      );
      assert.deepEqual(again, plan);
      const names = plan.users.map((u) => u.principalName.trim().toLowerCase());
      assert.deepEqual(names, [...names].sort());
    });
  });

  it("blocks an empty organization and a missing owner: the listing cannot be complete", () => {
    const plan = planMigration(input({ users: [], ownerId: "nobody" }));
    assert.equal(plan.users.length, 0);
    assert.ok(Object.values(plan.summary).every((n) => n === 0));
    assert.deepEqual(codes(plan.blockers), ["EMPTY_ORGANIZATION", "OWNER_NOT_FOUND"]);
    assert.deepEqual(codes(plan.warnings), []);
  });

  it("blocks on a user listing that says it is incomplete", () => {
    const plan = planMigration(
      input({ inventoryProblems: ["the service announced 12 users but listed 1"] }),
    );
    const incomplete = plan.blockers.find((b) => b.code === "INVENTORY_INCOMPLETE");
    assert.match(incomplete?.message ?? "", /announced 12 users but listed 1/);
  });

  it("blockers about the listing refuse every phase; the others only where the phase acts on them", () => {
    const blockers = [
      { code: "INVENTORY_INCOMPLETE" as const, message: "announced 12 users but listed 1" },
      { code: "TFVC_IN_USE" as const, message: "legacy" },
    ];
    assert.deepEqual(
      refusingBlockers("prepare", false, blockers).map((b) => b.code),
      ["INVENTORY_INCOMPLETE"],
    );
    assert.deepEqual(
      refusingBlockers("connect", true, blockers).map((b) => b.code),
      ["INVENTORY_INCOMPLETE"],
    );
    assert.deepEqual(
      refusingBlockers("connect", false, blockers).map((b) => b.code),
      ["INVENTORY_INCOMPLETE", "TFVC_IN_USE"],
    );
    assert.deepEqual(refusingBlockers("prepare", false, blockers.slice(1)), []);
  });

  it("blocks on users listed twice, naming each, and one invitation is declared for them", () => {
    const owner = user("owner@outlook.com");
    const plan = planMigration(
      input({ users: [owner, user("x@partner.org"), user("X@Partner.org ")] }),
    );
    const dup = plan.blockers.find((b) => b.code === "DUPLICATE_ORGANIZATION_USERS");
    assert.deepEqual(dup?.users, ["x@partner.org", "X@Partner.org "]);
    assert.ok(!codes(plan.blockers).includes("MAPPING_TARGET_SHARED"), "reported once");
  });

  it("blocks on a user with no principal name, by id", () => {
    const owner = user("owner@outlook.com");
    const nameless = user("");
    const plan = planMigration(input({ users: [owner, nameless] }));
    assert.deepEqual(plan.blockers.find((b) => b.code === "USERS_WITHOUT_PRINCIPAL_NAME")?.users, [
      nameless.id,
    ]);
  });

  it("blocks a user whose addresses match a member and a guest: which one is theirs is not decided", () => {
    const owner = user("owner@outlook.com");
    const plan = planMigration(
      input({
        users: [owner, user("pat@fabrikam.com")],
        tenant: {
          users: [
            member("owner@outlook.com"),
            guest("pat@fabrikam.com"),
            member("pat@fabrikam.com"),
          ],
          verifiedDomains: [],
        },
      }),
    );
    assert.equal(categoryOf(plan, "pat@fabrikam.com"), "historic");
    const ambiguous = plan.blockers.find((b) => b.code === "AMBIGUOUS_TENANT_MATCH");
    assert.deepEqual(ambiguous?.users, ["pat@fabrikam.com"]);
    assert.match(
      ambiguous?.message ?? "",
      /pat@fabrikam\.com \(pat_fabrikam\.com#EXT#@fabrikam\.onmicrosoft\.com, pat@fabrikam\.com\)\. Choose each one's identity with an identityChanges entry/,
    );
    assert.ok(!codes(plan.blockers).includes("HISTORIC_USERS_NOT_ACCEPTED"), "reported once");
  });

  it("blocks TFVC projects and a connection to another tenant; warns above 100 users", () => {
    const owner = user("owner@outlook.com");
    const many = Array.from({ length: 101 }, (_, i) => user(`user${i}@partner.org`));
    const plan = planMigration(
      input({
        users: [owner, ...many],
        projects: [
          { name: "web", versionControl: "git" },
          { name: "legacy", versionControl: "tfvc" },
        ],
        organizationTenantId: OTHER_TENANT,
      }),
    );
    assert.deepEqual(codes(plan.blockers), ["CONNECTED_TO_OTHER_TENANT", "TFVC_IN_USE"]);
    assert.match(plan.blockers.find((b) => b.code === "TFVC_IN_USE")?.message ?? "", /legacy/);
    assert.ok(codes(plan.warnings).includes("MORE_THAN_100_USERS"));
  });

  it("warns, without blocking, when the organization is already on the target tenant", () => {
    const owner = user("owner@outlook.com", { origin: "aad" });
    const plan = planMigration(input({ organizationTenantId: REFERENCE.tenantId, users: [owner] }));
    assert.deepEqual(codes(plan.blockers), []);
    assert.deepEqual(codes(plan.warnings), ["ALREADY_CONNECTED_TO_TARGET"]);
    assert.equal(plan.users[0].category, "tenantMember");
  });

  describe("after the connection", () => {
    const connected = (users: PlanUser[], over: Partial<PlanInput> = {}): MigrationPlan =>
      planMigration(
        input({
          organizationTenantId: REFERENCE.tenantId,
          users,
          tenant: {
            users: [
              member("owner@fabrikam.com"),
              guest("late@partner.org"),
              member("new@fabrikam.com"),
            ],
            verifiedDomains: ["fabrikam.com"],
          },
          ...over,
        }),
      );

    it("maps users the connection left disconnected to the identity with their address", () => {
      const late = user("late@partner.org"); // invited after the connection: still an MSA
      const plan = connected([user("owner@fabrikam.com", { origin: "aad" }), late]);
      const planned = plan.users.find((u) => u.principalName === "late@partner.org");
      assert.equal(planned?.category, "mapAfterConnect");
      assert.equal(planned?.action, "map to late@partner.org");
      assert.deepEqual(planned?.mapping, {
        userId: late.id,
        from: "late@partner.org",
        to: "late@partner.org",
        originId: "o-late@partner.org",
        done: false,
      });
      // Connected, but mappings run in the resolve phase only.
      assert.match(
        plan.warnings.find((w) => w.code === "IDENTITY_MAPPINGS_PLANNED")?.message ?? "",
        /will be mapped to their Entra identity in the resolve phase/,
      );
      const resolving = connected([user("owner@fabrikam.com", { origin: "aad" }), late], {
        phase: "resolve",
      });
      assert.match(
        resolving.warnings.find((w) => w.code === "IDENTITY_MAPPINGS_PLANNED")?.message ?? "",
        /will be mapped to their Entra identity by this run/,
      );
    });

    it("keeps a mapping made earlier, and counts its identity change as used", () => {
      const moved = user("new@fabrikam.com", { origin: "aad" });
      const plan = connected([user("owner@fabrikam.com", { origin: "aad" }), moved], {
        identityChanges: new Map([["old@outlook.com", "new@fabrikam.com"]]),
        previouslyMapped: new Map([
          [moved.id, { from: "old@outlook.com", to: "new@fabrikam.com" }],
        ]),
      });
      const planned = plan.users.find((u) => u.principalName === "new@fabrikam.com");
      assert.equal(planned?.category, "mapAfterConnect");
      assert.equal(planned?.action, "none: mapped");
      assert.equal(planned?.mapping?.from, "old@outlook.com");
      assert.ok(!codes(plan.blockers).includes("CONFIG_USERS_NOT_IN_ORGANIZATION"));
      assert.ok(!codes(plan.warnings).includes("IDENTITY_MAPPINGS_PLANNED"), "nothing left to map");
    });

    it("reports disconnected users without any tenant identity, instead of blocking", () => {
      const plan = connected([
        user("owner@fabrikam.com", { origin: "aad" }),
        user("gone@fabrikam.com"),
      ]);
      assert.deepEqual(codes(plan.blockers), []);
      assert.deepEqual(
        plan.warnings.find((w) => w.code === "DISCONNECTED_USERS_UNRESOLVED")?.users,
        ["gone@fabrikam.com"],
      );
    });
  });

  it("blocks an owner who is only a guest or missing from the tenant", () => {
    const owner = user("owner@outlook.com");
    const asGuest = planMigration(
      input({
        users: [owner],
        tenant: { users: [guest("owner@outlook.com")], verifiedDomains: [] },
      }),
    );
    assert.deepEqual(codes(asGuest.blockers), ["OWNER_NOT_TENANT_MEMBER"]);
    assert.match(asGuest.blockers[0].message, /only a guest/);
    const missing = planMigration(
      input({ users: [owner], tenant: { users: [], verifiedDomains: [] } }),
    );
    assert.deepEqual(codes(missing.blockers), ["OWNER_NOT_TENANT_MEMBER"]);
    assert.match(missing.blockers[0].message, /not in the tenant/);
  });

  it("needs no temporary owner when the owner's account is already an Entra account", () => {
    const owner = user("jamalhartnett@fabrikam.com", { origin: "aad" });
    const plan = planMigration(
      input({
        users: [owner],
        tenant: { users: [member("jamalhartnett@fabrikam.com")], verifiedDomains: [] },
      }),
    );
    assert.deepEqual(codes(plan.blockers), []);
  });

  it("reports config entries that match no organization user, accepted users who are in the tenant, and a missing identity-change target", () => {
    const owner = user("owner@outlook.com");
    const plan = planMigration(
      input({
        users: [owner, user("moving@outlook.com")],
        excludeUsers: new Set(["typo@partner.org"]),
        acceptHistoricUsers: new Set(["owner@outlook.com"]),
        identityChanges: new Map([
          ["moving@outlook.com", "moving@fabrikam.com"],
          ["nobody@outlook.com", "nobody@fabrikam.com"],
        ]),
      }),
    );
    assert.deepEqual(
      plan.blockers.find((b) => b.code === "CONFIG_USERS_NOT_IN_ORGANIZATION")?.users,
      ["excludeUsers: typo@partner.org", "identityChanges: nobody@outlook.com"],
    );
    assert.deepEqual(plan.blockers.find((b) => b.code === "SUPPORT_TICKET_REQUIRED")?.users, [
      "moving@outlook.com",
    ]);
    assert.deepEqual(
      plan.warnings.find((w) => w.code === "ACCEPTED_USERS_HAVE_TENANT_IDENTITY")?.users,
      ["owner@outlook.com"],
    );
    assert.deepEqual(
      plan.warnings.find((w) => w.code === "IDENTITY_CHANGE_TARGET_MISSING")?.users,
      ["moving@outlook.com"],
    );
    assert.match(
      plan.users.find((u) => u.principalName === "moving@outlook.com")?.reason ?? "",
      /does not exist in the tenant/,
    );
  });

  it("keeps a previous invitation whose guest is not yet visible, and reports invited guests who left", () => {
    const owner = user("owner@outlook.com");
    const plan = planMigration(
      input({
        users: [owner, user("slow@partner.org")],
        previouslyInvited: new Set(["slow@partner.org", "left@partner.org"]),
        invitationUserType: "Member",
      }),
    );
    const slow = plan.users.find((u) => u.email === "slow@partner.org");
    assert.equal(slow?.category, "invite");
    assert.equal(slow?.reason, "no identity in the tenant: invited as a B2B guest by this stack");
    assert.deepEqual(
      plan.warnings.find((w) => w.code === "INVITED_GUESTS_LEFT_ORGANIZATION")?.users,
      ["left@partner.org"],
    );
    assert.ok(codes(plan.warnings).includes("MEMBER_INVITATIONS_NEED_ADMIN"));
  });

  describe("billing in the plan, the report and the manual steps", () => {
    const inOther = billingInOtherDirectory();
    const planInput = (billing?: BillingReading, phase: Phase = "prepare"): PlanInput =>
      input({ phase, ...(billing ? { billing } : {}) });
    const steps = (plan: MigrationPlan, phase: "prepare" | "connect", connected = false): string =>
      manualSteps(runFacts(plan, { phase, connected }));

    it("adds the billing warning to the plan's warnings, never to its blockers", () => {
      const plan = planMigration(planInput(inOther));
      assert.deepEqual(
        plan.warnings.map((w) => w.code),
        ["BILLING_IN_OTHER_TENANT"],
      );
      assert.ok(!plan.blockers.some((b) => b.code.startsWith("BILLING")));
      assert.deepEqual(plan.notices, []);
      const md = renderReport(plan);
      assert.match(md, /### Warnings\n\n- `BILLING_IN_OTHER_TENANT`: Azure subscription 2b53247c/);
      assert.match(
        md,
        /learn\.microsoft\.com\/en-us\/entra\/fundamentals\/how-subscriptions-associated-directory/,
      );
    });

    it("puts the step with both fixes in the manual steps of prepare and connect", () => {
      const plan = planMigration(planInput(inOther));
      const [warning] = plan.warnings;
      for (const [phase, connected] of [
        ["prepare", false],
        ["connect", false],
        ["connect", true],
      ] as const) {
        const text = steps(planMigration(planInput(inOther, phase)), phase, connected);
        assert.match(
          text,
          /\d\. Move billing into the tenant's directory \(`BILLING_IN_OTHER_TENANT`\): /,
        );
        assert.ok(text.includes(BILLING_LINKS.changeBillingSubscription), `${phase} ${connected}`);
      }
      assert.ok(steps(plan, "prepare").includes(warning.message));
      const failed = planMigration(
        planInput({
          kind: "unknown",
          what: "which Azure subscription bills the organization",
          reason: "x",
        }),
      );
      assert.match(
        steps(failed, "prepare"),
        /Check billing by hand \(`BILLING_CHECK_FAILED`\): Billing could not be checked/,
      );
      assert.doesNotMatch(steps(planMigration(planInput()), "prepare"), /billing/i);
    });

    it("renders a notice in its own section and asks nothing of a human", () => {
      const plan = planMigration(planInput({ kind: "notSetUp" }));
      assert.deepEqual(plan.warnings, []);
      assert.deepEqual(
        plan.notices.map((n) => n.code),
        ["BILLING_NOT_SET_UP"],
      );
      assert.match(
        renderReport(plan),
        /### Notices\n\n- `BILLING_NOT_SET_UP`: No Azure subscription is set up for billing/,
      );
      assert.doesNotMatch(steps(plan, "prepare"), /BILLING/);
    });

    it("has no billing findings where billing is not read", () => {
      const plan = planMigration(planInput(undefined, "resolve"));
      assert.deepEqual(plan.notices, []);
      assert.doesNotMatch(renderReport(plan), /Notices|BILLING/);
    });
  });

  describe("report", () => {
    it("renders the summary, findings and the users to act on as Markdown", () => {
      const owner = user("jamalhartnett@fabrikam.com");
      const plan = planMigration(
        input({
          users: [owner, user("a|b@partner.org"), user("olduser@fabrikam.com")],
          tenant: {
            users: [member("jamalhartnett@fabrikam.com")],
            verifiedDomains: ["fabrikam.com"],
          },
          projects: [{ name: "legacy", versionControl: "tfvc" }],
        }),
      );
      const md = renderReport(plan);
      assert.match(md, /^## Azure DevOps → Entra ID migration plan: `fabrikam`/);
      assert.match(md, /\| Invited as B2B guests by this stack \| 1 \|/);
      assert.match(md, /- `TFVC_IN_USE`: 1 project\(s\) use or allow TFVC: legacy/);
      assert.match(
        md,
        /\| a\\\|b@partner\.org \| invite as Guest \| no identity in the tenant: invited as a B2B guest by this stack \|/,
      );
      assert.match(md, /### Would become historic — blocking \(1\)/);
      assert.doesNotMatch(md, /### Tenant members/);
    });

    it("cuts long categories and points to the full output", () => {
      const owner = user("owner@outlook.com");
      const many = Array.from({ length: REPORT_ROWS_PER_CATEGORY + 5 }, (_, i) =>
        user(`u${i}@partner.org`),
      );
      const md = renderReport(planMigration(input({ users: [owner, ...many] })));
      assert.match(md, /… and 5 more: `pulumi stack output migrationPlan --json`/);
      assert.ok(md.length < 65_536);
    });
  });
});

describe("migration plan: every user ends up as someone, and no one as someone else", () => {
  const owner = user("owner@outlook.com");
  const base = (over: Partial<PlanInput>): MigrationPlan =>
    planMigration(input({ ...over, users: [owner, ...(over.users ?? [])] }));

  it("a match to a disabled account is no identity: the user would become historic", () => {
    const plan = base({
      users: [user("pat@fabrikam.com")],
      tenant: {
        users: [
          member("owner@outlook.com"),
          { ...member("pat@fabrikam.com"), accountEnabled: false },
        ],
        verifiedDomains: ["fabrikam.com"],
      },
    });
    assert.equal(categoryOf(plan, "pat@fabrikam.com"), "historic");
    assert.match(
      plan.users.find((u) => u.principalName === "pat@fabrikam.com")?.reason ?? "",
      /its only tenant identity, pat@fabrikam\.com, is a disabled account/,
    );
    assert.deepEqual(plan.blockers.find((b) => b.code === "HISTORIC_USERS_NOT_ACCEPTED")?.users, [
      "pat@fabrikam.com",
    ]);
  });

  it("an identity change without its target is a blocker; accepting the user instead lifts it", () => {
    const moving = user("moving@outlook.com");
    const changing = base({
      users: [moving],
      identityChanges: new Map([["moving@outlook.com", "moving@fabrikam.com"]]),
    });
    assert.ok(codes(changing.blockers).includes("SUPPORT_TICKET_REQUIRED"));
    const accepted = base({
      users: [moving],
      acceptHistoricUsers: new Set(["moving@outlook.com"]),
    });
    assert.equal(categoryOf(accepted, "moving@outlook.com"), "acceptedHistoric");
    assert.ok(!codes(accepted.blockers).includes("SUPPORT_TICKET_REQUIRED"));
  });

  it("acceptance and exclusion match principal names only, never someone's mail", () => {
    const plan = base({
      users: [user("pat@outlook.com", { mailAddress: "pat@partner.org" })],
      acceptHistoricUsers: new Set(["pat@partner.org"]),
      identityChanges: new Map([["pat@partner.org", "pat@fabrikam.com"]]),
    });
    assert.equal(categoryOf(plan, "pat@outlook.com"), "invite", "neither setting applied");
    assert.deepEqual(
      plan.blockers.find((b) => b.code === "CONFIG_USERS_NOT_IN_ORGANIZATION")?.users,
      [
        "acceptHistoricUsers: pat@partner.org (the mail of pat@outlook.com: use that principal name)",
        "identityChanges: pat@partner.org (the mail of pat@outlook.com: use that principal name)",
      ],
    );
  });

  it("two users planned onto one identity block, naming both", () => {
    const plan = base({
      users: [user("jamal@outlook.com"), user("jamal@fabrikam.com")],
      tenant: {
        users: [member("owner@outlook.com"), member("jamal@fabrikam.com")],
        verifiedDomains: [],
      },
      identityChanges: new Map([["jamal@outlook.com", "jamal@fabrikam.com"]]),
    });
    const shared = plan.blockers.find((b) => b.code === "MAPPING_TARGET_SHARED");
    assert.match(
      shared?.message ?? "",
      /jamal@fabrikam\.com, jamal@outlook\.com → jamal@fabrikam\.com \(object id o-jamal@fabrikam\.com\)/,
    );
  });

  it("after the connection, a mapping onto an identity another user holds is refused: Azure DevOps would take it from them", () => {
    const holder = user("jamal@fabrikam.com", { origin: "aad", originId: "o-jamal@fabrikam.com" });
    const plan = base({
      organizationTenantId: REFERENCE.tenantId,
      users: [holder, user("jamal@outlook.com")],
      tenant: {
        users: [member("owner@outlook.com"), member("jamal@fabrikam.com")],
        verifiedDomains: [],
      },
      identityChanges: new Map([["jamal@outlook.com", "jamal@fabrikam.com"]]),
    });
    const held = plan.blockers.find((b) => b.code === "MAPPING_TARGET_HELD");
    assert.match(
      held?.message ?? "",
      /jamal@outlook\.com → jamal@fabrikam\.com \(object id o-jamal@fabrikam\.com\) \(held by jamal@fabrikam\.com\)/,
    );
  });

  it("compares addresses in one normal form: Unicode composition, invisible characters, IDN domains", () => {
    const plan = base({
      // "José" decomposed (NFD) with a zero-width space; the tenant has it composed (NFC).
      users: [user("Jose\u0301\u200B@fabrikam.com"), user("ana@bücher.example")],
      tenant: {
        users: [
          member("owner@outlook.com"),
          member("josé@fabrikam.com"),
          guest("ana@xn--bcher-kva.example"),
        ],
        verifiedDomains: ["fabrikam.com"],
      },
    });
    assert.equal(categoryOf(plan, "Jose\u0301\u200B@fabrikam.com"), "tenantMember");
    assert.equal(categoryOf(plan, "ana@bücher.example"), "tenantGuest");
  });

  it("a project that does not say whether it allows TFVC blocks the connection", () => {
    const plan = base({ projects: [{ name: "old", versionControl: "unknown" }] });
    assert.match(
      plan.blockers.find((b) => b.code === "TFVC_NOT_VERIFIED")?.message ?? "",
      /did not say whether they allow TFVC.*: old\./,
    );
  });

  describe("a guest this stack invited that the tenant no longer has", () => {
    const partner = user("partner@othercompany.com");
    const invitedBefore = {
      previouslyInvited: new Set(["partner@othercompany.com"]),
      invitedUserIds: new Map([["partner@othercompany.com", "o-partner@othercompany.com"]]),
    };

    it("blocks the connection, naming the user and the ways out", () => {
      const plan = base({ users: [partner], ...invitedBefore });
      const gone = plan.blockers.find((b) => b.code === "INVITED_GUESTS_NOT_IN_TENANT");
      assert.deepEqual(gone?.users, ["partner@othercompany.com"]);
      assert.match(gone?.message ?? "", /If tenantId changed since they were invited, set it back/);
      assert.match(gone?.message ?? "", /Deleted users/);
      assert.match(
        plan.users.find((u) => u.principalName === "partner@othercompany.com")?.action ?? "",
        /^blocked: /,
      );
      assert.ok(
        refusingBlockers("connect", false, plan.blockers).some(
          (b) => b.code === "INVITED_GUESTS_NOT_IN_TENANT",
        ),
      );
    });

    it("blocks just the same after a refresh emptied the invitation's user id", () => {
      const plan = base({
        users: [partner],
        previouslyInvited: invitedBefore.previouslyInvited,
        invitedUserIds: new Map([["partner@othercompany.com", ""]]),
      });
      assert.deepEqual(
        plan.blockers.find((b) => b.code === "INVITED_GUESTS_NOT_IN_TENANT")?.users,
        ["partner@othercompany.com"],
      );
    });

    it("after the connection, reports the user as disconnected without a usable identity", () => {
      const plan = base({
        users: [partner],
        organizationTenantId: REFERENCE.tenantId,
        ...invitedBefore,
      });
      assert.equal(categoryOf(plan, "partner@othercompany.com"), "historic");
      assert.ok(!codes(plan.blockers).includes("INVITED_GUESTS_NOT_IN_TENANT"));
      assert.deepEqual(
        plan.warnings.find((w) => w.code === "DISCONNECTED_USERS_UNRESOLVED")?.users,
        ["partner@othercompany.com"],
      );
    });

    it("answered with an existing user of other addresses: blocks, naming the user and that identity", () => {
      // Entra answered the invitation with a user who holds the address among its otherMails.
      const robin = { ...guest("robin@contoso.com"), objectId: "o-partner@othercompany.com" };
      const plan = base({
        users: [partner],
        tenant: { users: [member("owner@outlook.com"), robin], verifiedDomains: [] },
        ...invitedBefore,
      });
      const other = plan.blockers.find((b) => b.code === "INVITATIONS_MATCHED_OTHER_USERS");
      assert.deepEqual(other?.users, ["partner@othercompany.com"]);
      assert.match(
        other?.message ?? "",
        /partner@othercompany\.com → robin_contoso\.com#EXT#@fabrikam\.onmicrosoft\.com/,
      );
      assert.ok(!codes(plan.blockers).includes("INVITED_GUESTS_NOT_IN_TENANT"));
    });

    it("is no blocker once its guest is there, whatever Entra spells its mail", () => {
      const spelled = { ...guest("partner@othercompany.com"), mail: "Partner@OtherCompany.com" };
      const plan = base({
        users: [partner],
        tenant: { users: [member("owner@outlook.com"), spelled], verifiedDomains: [] },
        ...invitedBefore,
      });
      assert.deepEqual(
        codes(plan.blockers).filter((c) => c.startsWith("INVIT")),
        [],
      );
    });

    it("accepted by name, the user may become historic", () => {
      const plan = base({
        users: [partner],
        ...invitedBefore,
        acceptHistoricUsers: new Set(["partner@othercompany.com"]),
      });
      assert.ok(!codes(plan.blockers).includes("INVITED_GUESTS_NOT_IN_TENANT"));
      assert.equal(categoryOf(plan, "partner@othercompany.com"), "acceptedHistoric");
    });
  });

  it("an owner whose only member account is disabled cannot connect, even with a guest of their address", () => {
    const ada = user("ada.lovelace@fabrikam.com");
    const plan = planMigration(
      input({
        users: [ada],
        tenant: {
          users: [
            {
              ...member("alovelace@fabrikam.com", "ada.lovelace@fabrikam.com"),
              accountEnabled: false,
            },
            guest("ada.lovelace@fabrikam.com"),
          ],
          verifiedDomains: [],
        },
      }),
    );
    assert.match(
      plan.blockers.find((b) => b.code === "OWNER_NOT_TENANT_MEMBER")?.message ?? "",
      /a member of the tenant only as alovelace@fabrikam\.com, a disabled account/,
    );
  });
});
