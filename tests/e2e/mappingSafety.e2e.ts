/**
 * Mapping safety under the real Pulumi engine, at `--parallel 1` and `--parallel 64`: in the
 * resolve phase of an organization already connected, every ambiguity about who becomes whom is
 * refused before anything is mapped, with a message naming the users, and the emulator records no
 * mapping (nor the "scrub" a mapping onto a held identity would do: the emulator's default
 * `mappingHolder`). A legitimate resolve maps every user exactly once, to their own identity.
 *
 * One stack per parallelism: the refusals first (each on its own world and identityChanges), then
 * the legitimate resolve. Tokens come from the environment.
 */
import { strict as assert } from "node:assert";
import type { RecordedRequest } from "../emulator/server";
import { type TenantUser, type World, type WorldUser, defaultObjectId } from "../emulator/world";
import { OWNER_TOKEN } from "../support/programRun";
import { EngineError, type Scenario, ensureCli, newScenario } from "./harness";

const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const OWNER = "owner@fabrikam.com";
const USER_MAPPING = "pulumi-nodejs:dynamic/devops-entra-connect:UserMapping";
const SEEN = "2026-11-20T08:00:00Z";

/** Identity changes the legitimate resolve maps: `moverN@outlook.com` → `moverN@fabrikam.com`. */
const MOVERS = Array.from({ length: 6 }, (_, i) => i + 1).map((i) => ({
  from: `mover${i}@outlook.com`,
  to: `mover${i}@fabrikam.com`,
}));
const CHANGES: Record<string, string> = Object.fromEntries(MOVERS.map((m) => [m.from, m.to]));
/** Every mapping of the legitimate resolve: the movers, a mail-only match and a late guest. */
const MAPPINGS: { from: string; to: string; upn: string }[] = [
  ...MOVERS.map((m) => ({ ...m, upn: m.to })),
  {
    from: "ada.lovelace@fabrikam.com",
    to: "alovelace@fabrikam.com",
    upn: "alovelace@fabrikam.com",
  },
  {
    from: "late@partner.org",
    to: "late@partner.org",
    upn: "late_partner.org#EXT#@fabrikam.onmicrosoft.com",
  },
];

const msa = (principalName: string, extra: Partial<WorldUser> = {}): WorldUser => ({
  principalName,
  origin: "msa",
  lastAccessedDate: SEEN,
  ...extra,
});
const member = (upn: string, mail: string = upn): TenantUser => ({
  userPrincipalName: upn,
  mail,
  userType: "Member",
});
const guest = (address: string): TenantUser => ({
  userPrincipalName: `${address.replace("@", "_")}#EXT#@fabrikam.onmicrosoft.com`,
  mail: address,
  userType: "Guest",
});
const objectId = (upn: string): string => defaultObjectId(TENANT, upn);

/**
 * The organization after the connection: the owner is bound to their member account; the movers,
 * Ada (whose member account has her address as mail, not as UPN) and a late guest are still
 * Microsoft accounts, i.e. disconnected, each with their own tenant identity.
 */
function connectedWorld(edit: (w: World) => void = () => undefined): World {
  const w: World = {
    organization: "fabrikam",
    owner: OWNER,
    tenantId: TENANT,
    caller: OWNER,
    users: [
      { principalName: OWNER, origin: "aad", originId: objectId(OWNER), lastAccessedDate: SEEN },
      ...MAPPINGS.map((m) => msa(m.from)),
    ],
    projects: [{ name: "web", sourceControlType: "Git" }],
    tenant: {
      id: TENANT,
      domains: ["fabrikam.com", "fabrikam.onmicrosoft.com"],
      users: [
        member(OWNER),
        ...MOVERS.map((m) => member(m.to)),
        member("alovelace@fabrikam.com", "ada.lovelace@fabrikam.com"),
        guest("late@partner.org"),
      ],
    },
    tokens: { [OWNER_TOKEN]: OWNER },
  };
  edit(w);
  return w;
}

/** One ambiguity: what it adds to the world and to identityChanges, and what the refusal says. */
interface Ambiguity {
  readonly title: string;
  readonly world: (w: World) => void;
  readonly changes?: Record<string, string>;
  /** Each must match the refusal. */
  readonly refusal: readonly RegExp[];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const PLAN_REFUSAL =
  /The resolve phase is refused: \d+ blocker\(s\) stand, and nothing was changed\./;
const CONFIG_REFUSAL = /Invalid stack configuration \(\d+ problems?\); nothing was changed:/;

const AMBIGUITIES: readonly Ambiguity[] = [
  {
    title:
      "a user whose addresses answer to a member and a guest (which one is theirs is not decided)",
    // Rio's Microsoft account has the address of a guest; a member account carries it as mail.
    world: (w) => {
      w.users.push(msa("rio@partner.org"));
      w.tenant.users.push(guest("rio@partner.org"), member("rio@fabrikam.com", "rio@partner.org"));
    },
    refusal: [
      PLAN_REFUSAL,
      /AMBIGUOUS_TENANT_MATCH: 1 user\(s\) answer to more than one tenant identity.*rio@partner\.org \(/,
    ],
  },
  {
    title: "two organization users whose addresses resolve to one tenant identity",
    // Pat's Microsoft account and a second account of hers carrying the same address as its mail.
    world: (w) => {
      w.users.push(
        msa("pat.smith@fabrikam.com"),
        msa("pat@outlook.com", { mailAddress: "pat.smith@fabrikam.com" }),
      );
      w.tenant.users.push(member("psmith@fabrikam.com", "pat.smith@fabrikam.com"));
    },
    refusal: [
      PLAN_REFUSAL,
      new RegExp(
        `MAPPING_TARGET_SHARED: 1 identit\\(ies\\) would back more than one organization user: pat\\.smith@fabrikam\\.com, pat@outlook\\.com → psmith@fabrikam\\.com \\(object id ${objectId("psmith@fabrikam.com")}\\)`,
      ),
    ],
  },
  {
    title: "an identityChanges key that is only another user's mail",
    world: (w) => {
      w.users.push(msa("sam@outlook.com", { mailAddress: "sam@partner.org" }));
      w.tenant.users.push(member("sam@fabrikam.com"));
    },
    changes: { "sam@partner.org": "sam@fabrikam.com" },
    refusal: [
      PLAN_REFUSAL,
      /CONFIG_USERS_NOT_IN_ORGANIZATION: .*identityChanges: sam@partner\.org \(the mail of sam@outlook\.com: use that principal name\)/,
    ],
  },
  {
    title: "many-to-one identityChanges",
    world: (w) => {
      w.users.push(msa("kim@outlook.com"), msa("kimberly@outlook.com"));
      w.tenant.users.push(member("kim@fabrikam.com"));
    },
    changes: { "kim@outlook.com": "kim@fabrikam.com", "kimberly@outlook.com": "kim@fabrikam.com" },
    refusal: [
      CONFIG_REFUSAL,
      /identityChanges entry \d+ sends (kimberly@outlook\.com to kim@fabrikam\.com, which kim@outlook\.com|kim@outlook\.com to kim@fabrikam\.com, which kimberly@outlook\.com) already gets; one identity can back one user/,
    ],
  },
  {
    title: "a cycle a ↔ b",
    // Two partners whose accounts were swapped by mistake: each would take the other's guest.
    world: (w) => {
      w.users.push(msa("lee@partner.org"), msa("kai@partner.org"));
      w.tenant.users.push(guest("lee@partner.org"), guest("kai@partner.org"));
    },
    changes: { "lee@partner.org": "kai@partner.org", "kai@partner.org": "lee@partner.org" },
    refusal: [
      CONFIG_REFUSAL,
      /chains lee@partner\.org → kai@partner\.org → lee@partner\.org/,
      /chains kai@partner\.org → lee@partner\.org → kai@partner\.org/,
    ],
  },
  {
    title: "a chain a → b → c",
    world: (w) => {
      w.users.push(msa("ann@outlook.com"), msa("ann@partner.org"));
      w.tenant.users.push(guest("ann@partner.org"), member("ann@fabrikam.com"));
    },
    changes: { "ann@outlook.com": "ann@partner.org", "ann@partner.org": "ann@fabrikam.com" },
    refusal: [
      CONFIG_REFUSAL,
      /chains ann@outlook\.com → ann@partner\.org → ann@fabrikam\.com: ann@partner\.org both changes and is taken/,
    ],
  },
  {
    title: "a target another organization user holds (the emulator would scrub that holder)",
    world: (w) => {
      w.users.push(
        {
          principalName: "jo@fabrikam.com",
          origin: "aad",
          originId: objectId("jo@fabrikam.com"),
          lastAccessedDate: SEEN,
        },
        msa("jo@outlook.com"),
      );
      w.tenant.users.push(member("jo@fabrikam.com"));
    },
    changes: { "jo@outlook.com": "jo@fabrikam.com" },
    refusal: [
      PLAN_REFUSAL,
      new RegExp(
        `MAPPING_TARGET_HELD: 1 mapping\\(s\\) target an identity another organization user holds; Azure DevOps would remove that user's access to hand it over: jo@outlook\\.com → jo@fabrikam\\.com \\(object id ${escape(objectId("jo@fabrikam.com"))}\\) \\(held by jo@fabrikam\\.com\\)`,
      ),
    ],
  },
];

/**
 * The most mappings in flight at once, from the emulator's request log: a mapping runs from the
 * provider's first read of its user's entitlement to its last (the verification).
 */
function mappingsInFlight(
  requests: readonly RecordedRequest[],
  userIds: readonly string[],
): number {
  const spans = userIds.map((id) => {
    const at = requests.flatMap((r, i) => (r.path.endsWith(`/userentitlements/${id}`) ? [i] : []));
    return { first: Math.min(...at), last: Math.max(...at) };
  });
  return Math.max(
    ...spans.map((s) => spans.filter((o) => o.first <= s.first && s.first <= o.last).length),
  );
}

for (const parallel of [1, 64]) {
  describe(`mapping safety at --parallel ${parallel}, under the real Pulumi engine`, function () {
    let scenario: Scenario;
    const mutations = (): string[] =>
      scenario.emulator.mutations.map((m) => `${m.kind} ${m.value}`);

    before(async function () {
      this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
      await ensureCli();
      scenario = await newScenario(`mapping-p${parallel}`, connectedWorld(), {
        backendQuery: "metadata=skip",
        env: { AZDO_PERSONAL_ACCESS_TOKEN: OWNER_TOKEN },
      });
      await scenario.setConfig({
        organization: "https://dev.azure.com/fabrikam",
        tenantId: TENANT,
        phase: "resolve",
        identityChanges: CHANGES,
      });
    });
    after(async () => {
      if (!scenario) return;
      console.log(
        `      e2e timings: ${scenario
          .timings()
          .map((t) => `${t.operation} ${(t.ms / 1000).toFixed(1)} s`)
          .join("; ")}`,
      );
      await scenario.cleanup();
    });

    for (const a of AMBIGUITIES) {
      it(`refuses ${a.title} before anything is mapped`, async () => {
        scenario.emulator.world = connectedWorld(a.world);
        scenario.emulator.resetMutations();
        // The service's own answer to a mapping onto a held identity: remove the holder first.
        assert.equal(scenario.emulator.behaviour.mappingHolder, "scrub");
        const before = structuredClone(scenario.emulator.world.users);
        await scenario.setConfig({ identityChanges: { ...CHANGES, ...a.changes } });
        await assert.rejects(scenario.up({ parallel }), (err: unknown) => {
          assert.ok(err instanceof EngineError, String(err));
          for (const r of a.refusal) assert.match(err.message, r);
          assert.deepEqual(
            err.outcome.steps.filter((s) => s.type === USER_MAPPING),
            [],
            "no mapping was even planned",
          );
          return true;
        });
        assert.deepEqual(mutations(), [], "nothing mapped, nobody scrubbed");
        assert.deepEqual(scenario.emulator.world.users, before, "every user as they were");
        const state = (await scenario.exportState()).deployment as {
          resources?: { type: string }[];
        };
        assert.ok(!(state.resources ?? []).some((r) => r.type === USER_MAPPING));
      });
    }

    it("a legitimate resolve maps every user exactly once, to their own identity", async () => {
      scenario.emulator.world = connectedWorld();
      scenario.emulator.resetMutations();
      scenario.emulator.resetRequests();
      await scenario.setConfig({ identityChanges: CHANGES });
      const up = await scenario.up({ parallel });
      assert.deepEqual(
        up.steps
          .filter((s) => s.type === USER_MAPPING)
          .map((s) => `${s.op} ${s.name}`)
          .sort(),
        MAPPINGS.map((m) => `create map-${m.from}`).sort(),
      );
      assert.deepEqual(
        mutations().sort(),
        MAPPINGS.map((m) => `mapUser ${m.from} -> ${m.to}`).sort(),
        "each user mapped once, nobody scrubbed",
      );
      const world = scenario.emulator.world;
      for (const m of MAPPINGS) {
        const bound = world.users.filter((u) => u.originId === objectId(m.upn));
        assert.deepEqual(
          bound.map((u) => [u.principalName, u.origin]),
          [[m.to, "aad"]],
          `${m.from} is bound to ${m.upn}, and nobody else is`,
        );
      }
      assert.equal(world.users.length, connectedWorld().users.length, "nobody left");
      const ids = world.users.filter((u) => u.principalName !== OWNER).map((u) => u.id as string);
      // With --parallel 1 the engine starts a create only once the previous one finished; at 64 it
      // may overlap them (how much depends on timing, so it is reported, not asserted).
      const inFlight = mappingsInFlight(scenario.emulator.requests, ids);
      if (parallel === 1) assert.equal(inFlight, 1, "one mapping at a time");
      else
        console.log(
          `      at --parallel ${parallel}: up to ${inFlight} mappings in flight at once`,
        );
      const again = await scenario.preview({ parallel });
      assert.deepEqual(
        again.steps
          .filter((s) => s.op !== "same" && s.op !== "read")
          .map((s) => `${s.op} ${s.name}`),
        [],
        "nothing left to do",
      );
    });
  });
}
