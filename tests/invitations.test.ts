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

describe("invitations: the temporary owner's address is another person's other e-mail", () => {
  const env = useEmulator(() =>
    world((w) => {
      w.tenant.users.push({
        userPrincipalName: ROBIN,
        mail: "robin@contoso.com",
        userType: "Member",
        displayName: "Robin",
        otherMails: [TEMPORARY],
      });
    }),
  );
  const stack = stackRunner(env);
  const temporaryOwner = { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN };

  it("prepare invites the address; Entra answers with Robin", async () => {
    await stack.up("prepare", { temporaryOwner });
    const invitation = stack.engine().stack();
    const recorded = Object.entries(invitation).find(([urn]) =>
      urn.endsWith("temporary-owner-invitation"),
    );
    const robin = env.emulator.world.tenant.users.find((u) => u.userPrincipalName === ROBIN);
    assert.ok(robin && recorded);
    assert.ok(
      !env.emulator.world.tenant.users.some((u) => u.mail === TEMPORARY),
      "no guest of the temporary account's own was created",
    );
  });

  it("every later phase refuses, cleanup included, with the way out; Robin stays", async () => {
    env.emulator.signIn(TEMPORARY);
    for (const phase of ["prepare", "connect", "cleanup"]) {
      const before = env.emulator.mutations.length;
      await assert.rejects(
        stack.up(phase, { temporaryOwner }),
        /answered by Entra with an existing user of the tenant, robin_contoso\.com#EXT#@fabrikam\.onmicrosoft\.com.*pulumi state delete/,
      );
      assert.equal(env.emulator.mutations.length, before, `${phase} changed nothing`);
    }
    assert.ok(hasRobin(env.emulator.world));
  });

  it("once the invitation is forgotten and msaEmail removed, prepare undoes the rest of the pairing; Robin stays", async () => {
    const engine = stack.engine();
    engine.forget(engine.names().find((n) => n.endsWith("temporary-owner-invitation")) ?? "(none)");
    const steps = await stack.up("prepare");
    assert.deepEqual(
      steps.filter((s) => s.op === "delete").map((s) => s.name),
      ["temporary-owner-user", "temporary-owner"],
    );
    assert.ok(hasRobin(env.emulator.world), "Robin is still in the tenant");
    assert.ok(
      !env.emulator.world.users.some((u) => u.principalName === TEMPORARY),
      "the account this stack added left the organization",
    );
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
