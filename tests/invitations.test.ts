/**
 * What an invitation gave the invitee, checked on every later run: the program never takes another
 * person's tenant user for the invitee's guest, nor a guest that is gone for one that is there.
 * Entra answers an invitation of an address that an existing user holds among its other addresses
 * (`otherMails`) with that user; the tenant scan cannot see those addresses beforehand.
 */
import { strict as assert } from "node:assert";
import type { World } from "./emulator/world";
import { useEmulator } from "./support/emulatorEnv";
import { providerConfig } from "./support/engineLike";
import { MiniEngine, type Step } from "./support/miniEngine";
import {
  OWNER_TOKEN,
  TEMPORARY_TOKEN,
  fixture,
  runProgram,
  stackConfig,
} from "./support/programRun";
import { WorldMocks } from "./support/worldMocks";

const TEMPORARY = "fabrikam-migration@outlook.com";
/** A real external person, whose alternate e-mail addresses include `otherMails`. */
const ROBIN = "robin_contoso.com#EXT#@fabrikam.onmicrosoft.com";
const ACCEPTED = {
  excludeUsers: [],
  acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
  allowTfvc: true,
};

/** The reference world, each token its person's, with `edit` applied. */
function world(edit: (w: World) => void = () => undefined): World {
  const w = fixture();
  w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
  edit(w);
  return w;
}

/** Runs the program in `phase` and applies what it registered, as `pulumi up` would. */
function stackRunner(env: { readonly emulator: import("./emulator/server").Emulator }) {
  let engine: MiniEngine | undefined;
  return {
    engine: (): MiniEngine => {
      assert.ok(engine, "run first");
      return engine;
    },
    async up(phase: string, settings: Record<string, unknown> = {}): Promise<Step[]> {
      const config = { ...ACCEPTED, ...settings, phase };
      engine ??= new MiniEngine(
        env.emulator,
        providerConfig({
          "devops-entra-connect:devopsToken": OWNER_TOKEN,
          ...(settings.temporaryOwner
            ? { "devops-entra-connect:temporaryOwner": JSON.stringify(settings.temporaryOwner) }
            : {}),
        }),
      );
      const run = await runProgram(
        env.emulator,
        new WorldMocks(env.emulator.world, engine.stack()),
        stackConfig(env.emulator.world, config),
      );
      return engine.apply(run.mocks.registrations);
    },
  };
}

const hasRobin = (w: World): boolean => w.tenant.users.some((u) => u.userPrincipalName === ROBIN);

/** A world with Robin, a real external person whose other e-mail addresses hold `TEMPORARY`. */
function robinsWorld(): World {
  return world((w) => {
    w.tenant.users.push({
      userPrincipalName: ROBIN,
      mail: "robin@contoso.com",
      userType: "Member",
      displayName: "Robin",
      otherMails: [TEMPORARY],
    });
  });
}

const temporaryOwner = { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN };

/** What is left of the temporary owner pairing in the state (the proposed alias aside). */
const pairingLeft = (engine: MiniEngine): string[] =>
  engine.names().filter((n) => n.startsWith("temporary-owner") && n !== "temporary-owner-alias");

/** The options the temporary owner's invitation was last registered with. */
function invitationRetained(engine: MiniEngine): boolean | undefined {
  const name = engine.names().find((n) => n.endsWith("temporary-owner-invitation"));
  return name === undefined ? undefined : engine.options(name)?.retainOnDelete;
}

describe("invitations: the temporary owner's address is another person's other e-mail", () => {
  const env = useEmulator(robinsWorld);
  const stack = stackRunner(env);

  it("prepare invites the address, Entra answers with Robin; the invitation is kept out of deletes from the start", async () => {
    await stack.up("prepare", { temporaryOwner });
    assert.ok(
      !env.emulator.world.tenant.users.some((u) => u.mail === TEMPORARY),
      "no guest of the temporary account's own was created",
    );
    // Nothing is verified on the first run: `pulumi destroy` now would forget, not delete.
    assert.equal(invitationRetained(stack.engine()), true);
  });

  it("prepare again keeps it out of deletes; connect refuses, naming Robin and the way out", async () => {
    await stack.up("prepare", { temporaryOwner });
    assert.equal(invitationRetained(stack.engine()), true);
    env.emulator.signIn(TEMPORARY);
    const before = env.emulator.mutations.length;
    await assert.rejects(
      stack.up("connect", { temporaryOwner }),
      /answered by Entra with an existing user of the tenant, robin_contoso\.com#EXT#@fabrikam\.onmicrosoft\.com.*This stack never deletes it/,
    );
    assert.equal(env.emulator.mutations.length, before, "connect changed nothing");
    assert.equal(env.emulator.world.tenantId, null);
  });

  it("with msaEmail removed, prepare removes the account it added and forgets the invitation; Robin stays", async () => {
    const first = await stack.up("prepare");
    assert.deepEqual(
      first.filter((s) => s.op === "delete").map((s) => s.name),
      ["temporary-owner-user"],
      "the account leaves the organization; the invitation is declared once more, retained",
    );
    const second = await stack.up("prepare");
    assert.deepEqual(
      second.filter((s) => s.op === "delete").map((s) => s.name),
      ["temporary-owner-invitation", "temporary-owner"],
    );
    assert.ok(hasRobin(env.emulator.world), "Robin is still in the tenant");
    assert.ok(
      !env.emulator.world.users.some((u) => u.principalName === TEMPORARY),
      "the account this stack added left the organization",
    );
    assert.deepEqual(pairingLeft(stack.engine()), []);
  });
});

describe("invitations: Robin's address, and the temporary account's add to the organization fails", () => {
  const env = useEmulator(robinsWorld);
  const stack = stackRunner(env);

  it("the next prepare with the same config neither mistakes Robin's mail for the address nor deletes her", async () => {
    env.emulator.injectFault({
      method: "POST",
      path: "/_apis/userentitlements",
      status: 400,
      body: { message: "Injected: the add is refused." },
      times: 1,
    });
    await assert.rejects(stack.up("prepare", { temporaryOwner }), /refused/);
    // Only the invitation is in the state; its output reads Robin's mail, not the address invited.
    await stack.up("prepare", { temporaryOwner });
    assert.equal(invitationRetained(stack.engine()), true);
    await stack.up("prepare");
    await stack.up("prepare");
    assert.ok(hasRobin(env.emulator.world), "Robin is still in the tenant");
    assert.deepEqual(pairingLeft(stack.engine()), []);
  });
});

describe("invitations: the temporary owner given up before the connection", () => {
  const env = useEmulator(() => world(), "each");

  it("its guest deleted by hand: prepare forgets the invitation instead of failing on its delete, and converges", async () => {
    const stack = stackRunner(env);
    await stack.up("prepare", { temporaryOwner });
    await stack.up("prepare", { temporaryOwner });
    assert.equal(invitationRetained(stack.engine()), false, "its own guest, verified: deletable");
    env.emulator.removeTenantUser(TEMPORARY);
    await stack.up("prepare");
    await stack.up("prepare");
    assert.deepEqual(pairingLeft(stack.engine()), []);
    assert.ok(!env.emulator.world.users.some((u) => u.principalName === TEMPORARY));
  });

  it("a guest of its own is deleted when the pairing is given up, after one prepare or two", async () => {
    for (const prepares of [1, 2]) {
      const stack = stackRunner(env);
      for (let n = 0; n < prepares; n++) await stack.up("prepare", { temporaryOwner });
      assert.ok(env.emulator.world.tenant.users.some((u) => u.mail === TEMPORARY));
      // After one run the invitation is still kept out of deletes: it is made deletable first.
      const runs = prepares === 1 ? 2 : 1;
      for (let n = 0; n < runs; n++) await stack.up("prepare");
      assert.ok(
        !env.emulator.world.tenant.users.some((u) => u.mail === TEMPORARY),
        `the guest is deleted (${prepares} prepare(s))`,
      );
      assert.deepEqual(pairingLeft(stack.engine()), []);
    }
  });
});

describe("invitations: a user's invitation answered with another person who holds the address", () => {
  const ALICE = "alice.personal@outlook.com";
  const env = useEmulator(() =>
    world((w) => {
      w.users.push({
        principalName: ALICE,
        displayName: "Alice",
        origin: "msa",
        license: "express",
        status: "active",
        lastAccessedDate: "2025-10-02T14:30:00Z",
      });
      w.tenant.users.push({
        userPrincipalName: "alice_contoso.com#EXT#@fabrikam.onmicrosoft.com",
        mail: "alice@contoso.com",
        userType: "Guest",
        displayName: "Alice (Contoso)",
        otherMails: [ALICE],
      });
      // The owner connects: a member of the tenant.
      w.owner = "ada.lovelace@fabrikam.com";
      w.tokens = { [OWNER_TOKEN]: "ada.lovelace@fabrikam.com" };
    }),
  );
  const stack = stackRunner(env);

  it("connect is refused, naming the user and the identity Entra answered with; nothing is connected", async () => {
    await stack.up("prepare");
    const before = env.emulator.mutations.length;
    await assert.rejects(
      stack.up("connect"),
      /INVITATIONS_MATCHED_OTHER_USERS: .*alice\.personal@outlook\.com → alice_contoso\.com#EXT#@fabrikam\.onmicrosoft\.com/,
    );
    assert.equal(env.emulator.world.tenantId, null);
    assert.equal(env.emulator.mutations.length, before);
  });

  it("mapped to that identity with identityChanges, the connection goes ahead", async () => {
    await stack.up("connect", { identityChanges: { [ALICE]: "alice@contoso.com" } });
    assert.equal(env.emulator.world.tenantId, env.emulator.world.tenant.id);
  });
});

describe("invitations: a guest this stack invited is gone before the connection", () => {
  const env = useEmulator(
    () =>
      world((w) => {
        w.owner = "ada.lovelace@fabrikam.com";
        w.tokens = { [OWNER_TOKEN]: "ada.lovelace@fabrikam.com" };
      }),
    "each",
  );

  it("deleted in Entra: connect is refused, naming the user; nothing is connected", async () => {
    const stack = stackRunner(env);
    await stack.up("prepare");
    env.emulator.removeTenantUser("partner@othercompany.com");
    await assert.rejects(
      stack.up("connect"),
      /INVITED_GUESTS_NOT_IN_TENANT: 1 user\(s\) were invited by this stack, but the guests it created are no longer in the tenant: partner@othercompany\.com/,
    );
    assert.equal(env.emulator.world.tenantId, null);
  });

  it("tenantId changed since the invitations: connect is refused, naming every invitee", async () => {
    const stack = stackRunner(env);
    await stack.up("prepare");
    const invited = ["dev.someone@gmail.com", "partner@othercompany.com"];
    // The operator meant another tenant, with the same members and none of the guests.
    const tenant = env.emulator.world.tenant;
    tenant.id = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    tenant.users = tenant.users.filter((u) => !invited.includes(String(u.mail)));
    await assert.rejects(
      stack.up("connect", { tenantId: tenant.id }),
      /INVITED_GUESTS_NOT_IN_TENANT: 2 user\(s\) .*: dev\.someone@gmail\.com, partner@othercompany\.com\. .*If tenantId changed since they were invited, set it back/,
    );
    assert.equal(env.emulator.world.tenantId, null);
  });
});

describe("invitations: the owner's only member account is disabled", () => {
  const env = useEmulator(() =>
    world((w) => {
      w.owner = "ada.lovelace@fabrikam.com";
      w.tokens = { [OWNER_TOKEN]: "ada.lovelace@fabrikam.com" };
      const ada = w.tenant.users.find((u) => u.userPrincipalName === "alovelace@fabrikam.com");
      assert.ok(ada);
      ada.accountEnabled = false;
      w.tenant.users.push({
        userPrincipalName: "ada.lovelace_fabrikam.com#EXT#@fabrikam.onmicrosoft.com",
        mail: "ada.lovelace@fabrikam.com",
        userType: "Guest",
        displayName: "Ada (guest)",
      });
    }),
  );

  it("connect is refused by the program itself; the connect call is never sent", async () => {
    const stack = stackRunner(env);
    await stack.up("prepare");
    await assert.rejects(
      stack.up("connect"),
      /OWNER_NOT_TENANT_MEMBER: The owner ada\.lovelace@fabrikam\.com is a member of the tenant only as alovelace@fabrikam\.com, a disabled account/,
    );
    assert.ok(
      !env.emulator.requests.some((r) => r.method === "PATCH" && /Organizations\/Me/i.test(r.path)),
      "no connect call",
    );
  });
});
