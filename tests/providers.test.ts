import { strict as assert } from "node:assert";
import type * as pulumi from "@pulumi/pulumi";
import { forgetTokens } from "../providers/credentials";
import * as organizationOwner from "../providers/organizationOwner";
import * as organizationUser from "../providers/organizationUser";
import * as tenantConnection from "../providers/tenantConnection";
import * as userMapping from "../providers/userMapping";
import type { Emulator } from "./emulator/server";
import { usersDigest } from "../devops/digest";
import { World, defaultObjectId, defaultUserId, normalizeWorld } from "./emulator/world";
import { useEmulator } from "./support/emulatorEnv";
import { loadSerializedProvider, providerConfig, serializeProvider } from "./support/engineLike";
import { OWNER_TOKEN, TEMPORARY_TOKEN, fixture } from "./support/programRun";
import { refusedOperation } from "./support/faults";

/** The providers as the engine drives them: untyped property bags in, property bags out. */
const untyped = (p: object): pulumi.dynamic.ResourceProvider =>
  p as pulumi.dynamic.ResourceProvider;
const ownerProvider = untyped(organizationOwner.provider);
const userProvider = untyped(organizationUser.provider);
const connectionProvider = untyped(tenantConnection.provider);
const mappingProvider = untyped(userMapping.provider);

const TEMPORARY = "fabrikam-migration@outlook.com";
const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const CONFIG = providerConfig({
  "devops-entra-connect:devopsToken": OWNER_TOKEN,
  "devops-entra-connect:temporaryOwner": JSON.stringify({
    msaEmail: TEMPORARY,
    devopsToken: TEMPORARY_TOKEN,
  }),
});

function world(): World {
  const w = fixture();
  w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
  w.tenant.users.push({
    userPrincipalName: "fabrikam-migration_outlook.com#EXT#@fabrikam.onmicrosoft.com",
    mail: TEMPORARY,
    userType: "Member",
  });
  return w;
}

/** check() then create(), as the engine calls them. */
async function checkAndCreate(
  provider: pulumi.dynamic.ResourceProvider,
  news: Record<string, unknown>,
): Promise<{ id: string; outs: Record<string, unknown> }> {
  const checked = await provider.check!({}, news);
  assert.equal(checked.failures, undefined, JSON.stringify(checked.failures));
  const created = await provider.create(checked.inputs);
  return { id: created.id, outs: created.outs as Record<string, unknown> };
}

describe("dynamic providers against the emulator", () => {
  const env = useEmulator(world, "each");
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = env.emulator;
    for (const p of [userProvider, ownerProvider, connectionProvider, mappingProvider]) {
      await p.configure!({ config: CONFIG });
    }
  });

  /** The temporary account added to the organization with a Basic license, as `prepare` does. */
  function addTemporaryUser(): Promise<{ id: string; outs: Record<string, unknown> }> {
    return checkAndCreate(userProvider, {
      organization: "fabrikam",
      principalName: TEMPORARY,
      license: "express",
      role: "owner",
    });
  }

  /** The temporary owner in the organization, signed in, and owner. */
  async function temporaryOwnerInCharge(): Promise<void> {
    await addTemporaryUser();
    emulator.signIn(TEMPORARY);
    await checkAndCreate(ownerProvider, {
      organization: "fabrikam",
      ownerPrincipalName: TEMPORARY,
      role: "owner",
      handBackRole: "owner",
    });
  }

  describe("organization user", () => {
    const news = {
      organization: "fabrikam",
      principalName: " Fabrikam-Migration@Outlook.com ",
      license: "express",
      role: "owner",
    };

    it("adds the user with a Basic license, reads it back, diffs, and removes it (404 is success)", async () => {
      const { id, outs } = await checkAndCreate(userProvider, news);
      assert.equal(outs.principalName, TEMPORARY);
      assert.equal(outs.userId, id);
      assert.deepEqual(
        emulator.mutations.map((m) => [m.kind, m.value, m.by]),
        [["addUser", TEMPORARY, "jamalhartnett@fabrikam.com"]],
      );

      emulator.signIn(TEMPORARY);
      const read = await userProvider.read!(id, outs);
      assert.equal(read.id, id);
      assert.deepEqual(read.props, outs, "a sign-in is not drift");
      assert.deepEqual(read.inputs, {
        organization: "fabrikam",
        principalName: TEMPORARY,
        license: "express",
        role: "owner",
      });

      assert.deepEqual(
        (await userProvider.diff!(id, outs, { ...outs, role: "owner" })).replaces,
        [],
      );
      assert.equal((await userProvider.diff!(id, outs, { ...outs })).changes, false);
      assert.deepEqual(
        (await userProvider.diff!(id, outs, { ...outs, principalName: "other@outlook.com" }))
          .replaces,
        ["principalName"],
      );

      await userProvider.delete!(id, outs);
      assert.deepEqual(await userProvider.read!(id, outs), {}, "gone → empty read");
      await userProvider.delete!(id, outs); // already gone: 404 is success
      assert.deepEqual(
        emulator.mutations.map((m) => m.kind),
        ["addUser", "removeUser"],
      );
    });

    it("rejects bad inputs in check", async () => {
      const checked = await userProvider.check!(
        {},
        { ...news, principalName: "nope", license: "gold" },
      );
      assert.deepEqual(
        checked.failures?.map((f) => f.property),
        ["principalName", "license"],
      );
    });

    it("adopts a user a failed earlier run already added, instead of failing forever", async () => {
      const first = await checkAndCreate(userProvider, news);
      const again = await checkAndCreate(userProvider, news);
      assert.equal(again.id, first.id);
      assert.equal(again.outs.addedByThisStack, true);
      assert.equal(emulator.mutations.filter((m) => m.kind === "addUser").length, 1);
    });

    it("records the owner at the time it added the user, and that it added it", async () => {
      const { outs } = await checkAndCreate(userProvider, news);
      assert.equal(outs.addedByThisStack, true);
      assert.equal(outs.ownerBefore, defaultUserId("jamalhartnett@fabrikam.com"));
    });

    it("never adopts a user who was in the organization before, and never removes one it did not add", async () => {
      // A real person, in the organization since 2018 (the fixture's dateCreated).
      await assert.rejects(
        checkAndCreate(userProvider, { ...news, principalName: "partner@othercompany.com" }),
        /partner@othercompany\.com is already a user of the organization fabrikam \(added 2018-03-01T09:00:00Z\), not one this stack added; it is not adopted/,
      );
      const partner = defaultUserId("partner@othercompany.com");
      // A state of an older release, which did not record who added the user: kept.
      await userProvider.delete!(partner, {
        organization: "fabrikam",
        principalName: "partner@othercompany.com",
        license: "express",
        role: "owner",
        userId: partner,
      });
      assert.ok(emulator.world.users.some((u) => u.principalName === "partner@othercompany.com"));
      assert.deepEqual(emulator.mutations, []);
    });

    it("does not remove the user while it owns the organization", async () => {
      const { id, outs } = await checkAndCreate(userProvider, news);
      emulator.signIn(TEMPORARY);
      emulator.world.owner = TEMPORARY;
      await assert.rejects(
        userProvider.delete!(id, outs),
        /fabrikam-migration@outlook\.com still owns the organization fabrikam, so it is not removed: hand ownership back first/,
      );
      assert.ok(emulator.world.users.some((u) => u.principalName === TEMPORARY));
    });

    it("refuses an unknown role in check instead of acting as the owner", async () => {
      const checked = await userProvider.check!({}, { ...news, role: "admin" });
      assert.deepEqual(
        checked.failures?.map((f) => [f.property, f.reason]),
        [["role", 'role must be one of owner, temporaryOwner (got "admin")']],
      );
    });

    it("waits out a 429 and surfaces isSuccess:false with Microsoft's message", async () => {
      emulator.injectFault({
        method: "POST",
        path: "/_apis/userentitlements",
        status: 429,
        retryAfter: 0,
      });
      await checkAndCreate(userProvider, news);
      emulator.injectFault({
        method: "POST",
        path: "/_apis/userentitlements",
        body: refusedOperation("5000", "External users are not allowed"),
      });
      await assert.rejects(
        checkAndCreate(userProvider, { ...news, principalName: "new@partner.org" }),
        /add user new@partner\.org .* failed with HTTP 200: the operation was refused \(isSuccess:false\): External users are not allowed \(code 5000\)/,
      );
    });
  });

  describe("organization owner", () => {
    const news = {
      organization: "fabrikam",
      ownerPrincipalName: TEMPORARY,
      role: "owner",
      handBackRole: "owner",
    };
    const jamal = defaultUserId("jamalhartnett@fabrikam.com");

    it("refuses a new owner who never signed in, then hands ownership over, reads drift, and hands it back on delete", async () => {
      const user = await addTemporaryUser();
      await assert.rejects(
        checkAndCreate(ownerProvider, news),
        /fabrikam-migration@outlook\.com has never signed in to https:\/\/dev\.azure\.com\/fabrikam; a new owner must have signed in once/,
      );
      emulator.signIn(TEMPORARY);

      const { id, outs } = await checkAndCreate(ownerProvider, news);
      assert.equal(outs.ownerId, user.id);
      assert.equal(outs.previousOwnerId, jamal);
      assert.equal(emulator.world.owner, TEMPORARY);

      assert.equal((await ownerProvider.read!(id, outs)).props?.ownerId, user.id);
      emulator.world.owner = "sam.taylor@fabrikam.com"; // changed in the portal
      assert.equal(
        (await ownerProvider.read!(id, outs)).props?.ownerId,
        defaultUserId("sam.taylor@fabrikam.com"),
      );
      emulator.world.owner = TEMPORARY;

      await ownerProvider.delete!(id, outs);
      assert.equal(emulator.world.owner, "jamalhartnett@fabrikam.com");
      assert.deepEqual(
        emulator.mutations.filter((m) => m.kind === "owner").map((m) => m.value),
        [TEMPORARY, "jamalhartnett@fabrikam.com"],
      );
    });

    it("after an interrupted run already moved ownership, hands back to the configured owner, never to the new owner", async () => {
      await addTemporaryUser();
      emulator.signIn(TEMPORARY);
      // The earlier run changed the owner, then failed before saving; the previous owner stays a
      // Project Collection Administrator, as the service keeps it.
      emulator.world.owner = TEMPORARY;
      emulator.world.administrators = ["jamalhartnett@fabrikam.com"];
      await assert.rejects(
        checkAndCreate(ownerProvider, news),
        /fabrikam-migration@outlook\.com already owns the organization fabrikam and the owner to hand back to is unknown/,
      );
      const { id, outs } = await checkAndCreate(ownerProvider, {
        ...news,
        handBackTo: "JamalHartnett@fabrikam.com",
      });
      assert.equal(outs.previousOwnerId, jamal);
      assert.equal(
        emulator.mutations.filter((m) => m.kind === "owner").length,
        0,
        "no second change",
      );
      await ownerProvider.delete!(id, outs);
      assert.equal(emulator.world.owner, "jamalhartnett@fabrikam.com", "ownership came back");
    });

    it("fails the hand-back when the owner change answers success but changes nothing", async () => {
      await addTemporaryUser();
      emulator.signIn(TEMPORARY);
      const { id, outs } = await checkAndCreate(ownerProvider, {
        ...news,
        verifyAttempts: 2,
        verifyIntervalMs: 10,
      });
      // Azure DevOps answers the hand-back with HTTP 200, and the owner stays the temporary one.
      emulator.injectFault({
        method: "PATCH",
        path: "Collections/Me",
        body: { owner: outs.ownerId },
        times: Infinity,
      });
      await assert.rejects(
        ownerProvider.delete!(id, outs),
        /handing ownership back: the organization fabrikam still reports owner \S+ instead of \S+ after the change/,
      );
      assert.equal(emulator.world.owner, TEMPORARY);
    });

    it("fails clearly for a user who is not in the organization", async () => {
      await assert.rejects(
        checkAndCreate(ownerProvider, news),
        /fabrikam-migration@outlook\.com is not a user of the organization fabrikam; add it/,
      );
    });
  });

  describe("tenant connection", () => {
    const news = {
      organization: "fabrikam",
      tenantId: TENANT.toUpperCase(),
      role: "temporaryOwner",
      verifyAttempts: 2,
      verifyIntervalMs: 10,
    };

    it("is refused by Microsoft's rule while the connecting owner's MSA equals a member identity", async () => {
      await assert.rejects(
        checkAndCreate(connectionProvider, { ...news, role: "owner" }),
        /connect to tenant 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b .* failed with HTTP 400/,
      );
      assert.equal(emulator.world.tenantId, null);
    });

    it("is refused with Microsoft's message when the connecting user is only a guest", async () => {
      await temporaryOwnerInCharge();
      emulator.world.tenant.users.find((u) => u.mail === TEMPORARY)!.userType = "Guest";
      await assert.rejects(
        checkAndCreate(connectionProvider, news),
        /failed with HTTP 403: Only active members of the AAD tenant are allowed to perform the link/,
      );
    });

    it("connects as the temporary owner, verifies, reports drift, refuses a silent tenant change, and stays connected on delete", async () => {
      await temporaryOwnerInCharge();
      const { id, outs } = await checkAndCreate(connectionProvider, news);
      assert.equal(outs.tenantId, TENANT);
      assert.ok(typeof outs.verifiedAt === "string");
      assert.equal(emulator.world.tenantId, TENANT);
      const tenantMutations = emulator.mutations.filter((m) => m.kind === "tenant");
      assert.deepEqual(
        tenantMutations.map((m) => [m.value, m.by]),
        [[TENANT, TEMPORARY]],
      );

      assert.equal((await connectionProvider.read!(id, outs)).props?.tenantId, TENANT);
      emulator.world.tenantId = "11111111-2222-3333-4444-555555555555"; // switched in the portal
      const drifted = await connectionProvider.read!(id, outs);
      assert.equal(drifted.props?.tenantId, "11111111-2222-3333-4444-555555555555");
      // A different tenant is a replacement (deleted first: one tenant at a time). Diff does not
      // refuse it: the engine calls diff during refresh too. The program refuses it (phases test).
      const allowed = await connectionProvider.diff!(id, drifted.props, { ...outs });
      assert.deepEqual(allowed.replaces, ["tenantId"]);
      assert.equal(allowed.deleteBeforeReplace, true);
      emulator.world.tenantId = TENANT;

      assert.equal(
        (await connectionProvider.diff!(id, outs, { ...outs, role: "owner" })).changes,
        true,
      );
      assert.equal((await connectionProvider.diff!(id, outs, { ...outs })).changes, false);

      await connectionProvider.delete!(id, outs);
      assert.equal(
        emulator.world.tenantId,
        TENANT,
        "delete without allowDisconnect leaves it connected",
      );
      // Microsoft lets only a Microsoft-account owner disconnect (rule O8); the temporary owner is
      // an Entra identity once connected, so even allowDisconnect fails, with the service's reason.
      await assert.rejects(
        connectionProvider.delete!(id, { ...outs, allowDisconnect: true }),
        /cannot be disconnected while its owner '.*' is a Microsoft Entra identity/,
      );
      assert.equal(emulator.world.tenantId, TENANT, "a refused disconnect leaves it connected");
    });

    it("with allowDisconnect, disconnects when Microsoft's conditions hold: the owner a Microsoft account, PCA and Global Administrator", async () => {
      await temporaryOwnerInCharge();
      const { id, outs } = await checkAndCreate(connectionProvider, news);
      // The owner's Microsoft account again (as after a hand-back to one), and a Global
      // Administrator of the tenant.
      emulator.world.users.find((u) => u.principalName === TEMPORARY)!.origin = "msa";
      emulator.world.tenant.users.find((u) => u.mail === TEMPORARY)!.globalAdministrator = true;
      await connectionProvider.delete!(id, { ...outs, allowDisconnect: true });
      assert.equal(emulator.world.tenantId, null, "allowDisconnect sends the all-zero tenant");
    });

    /** What the plan saw: today's users, the temporary owner owning, TFVC accepted. */
    const preconditions = (allowTfvc = true): tenantConnection.ConnectPreconditions => ({
      usersDigest: usersDigest(normalizeWorld(emulator.world).users),
      ownerId: defaultUserId(TEMPORARY),
      allowTfvc,
    });

    it("checks again right before connecting that nobody joined, the owner and TFVC are as planned", async () => {
      await temporaryOwnerInCharge();
      const planned = preconditions();
      emulator.world.users.push({ principalName: "latecomer@partner.org", origin: "msa" });
      await assert.rejects(
        checkAndCreate(connectionProvider, { ...news, preconditions: planned }),
        /Not connecting the organization fabrikam: the organization's users changed since the plan \(someone joined or left\)\. Nothing was connected/,
      );
      emulator.world.users.pop();
      await assert.rejects(
        checkAndCreate(connectionProvider, { ...news, preconditions: preconditions(false) }),
        /TFVC is not ruled out for legacy/,
      );
      await assert.rejects(
        checkAndCreate(connectionProvider, {
          ...news,
          preconditions: { ...planned, ownerId: defaultUserId("jamalhartnett@fabrikam.com") },
        }),
        /the owner is now \S+, not the \S+ the plan expects/,
      );
      assert.equal(emulator.world.tenantId, null, "nothing was connected");
      await checkAndCreate(connectionProvider, { ...news, preconditions: planned });
      assert.equal(emulator.world.tenantId, TENANT);
    });

    it("verifies by the organization endpoint when the tenant header is absent, and fails when they disagree", async () => {
      await temporaryOwnerInCharge();
      emulator.injectFault({ method: "HEAD", path: "/fabrikam", status: 401, times: Infinity });
      const { outs } = await checkAndCreate(connectionProvider, news);
      assert.equal(outs.tenantId, TENANT);
      const heads = emulator.requests.filter((r) => r.method === "HEAD");
      assert.ok(heads.length > 0 && heads.every((r) => r.auth === "none"), "anonymous probe");

      emulator.clearFaults();
      emulator.injectFault({
        method: "HEAD",
        path: "/fabrikam",
        status: 401,
        headers: { "X-VSS-ResourceTenant": "11111111-2222-3333-4444-555555555555" },
        times: Infinity,
      });
      await assert.rejects(
        checkAndCreate(connectionProvider, news),
        /was connected to 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b, but it still reports 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b \(header: 11111111-2222-3333-4444-555555555555\)/,
      );
    });

    it("adopts a connection that an earlier, failed run already made", async () => {
      await temporaryOwnerInCharge();
      emulator.world.tenantId = TENANT;
      const { outs } = await checkAndCreate(connectionProvider, news);
      assert.equal(outs.tenantId, TENANT);
      assert.equal(emulator.mutations.filter((m) => m.kind === "tenant").length, 0);
    });

    it("rides out a 429 on the connect call", async () => {
      await temporaryOwnerInCharge();
      emulator.injectFault({
        method: "PATCH",
        path: "Organizations/Me",
        status: 429,
        retryAfter: 0,
      });
      await checkAndCreate(connectionProvider, news);
      assert.equal(emulator.world.tenantId, TENANT);
    });
  });

  describe("user mapping", () => {
    const jamal = defaultUserId("jamal@outlook.com");
    const target = {
      principalName: "Jamal@Fabrikam.com",
      originId: defaultObjectId(TENANT, "jamal@fabrikam.com"),
    };
    const news = { organization: "fabrikam", userId: jamal, ...target, role: "owner" };

    /** Connects the organization the way the connect phase does. */
    async function connect(): Promise<void> {
      await temporaryOwnerInCharge();
      await checkAndCreate(connectionProvider, {
        organization: "fabrikam",
        tenantId: TENANT,
        role: "temporaryOwner",
        verifyAttempts: 2,
        verifyIntervalMs: 10,
      });
    }

    it("is refused before the organization is connected", async () => {
      await assert.rejects(
        checkAndCreate(mappingProvider, news),
        /map user msa\.\S+ to jamal@fabrikam\.com .* failed with HTTP 400/,
      );
    });

    it("maps by object id, reads the binding back, converges on a re-run, and does nothing on delete", async () => {
      await connect();
      const { id, outs } = await checkAndCreate(mappingProvider, news);
      assert.equal(outs.boundOrigin, "aad");
      assert.equal(outs.boundPrincipalName, "jamal@fabrikam.com");
      assert.equal(outs.boundOriginId, target.originId);
      const mapped = emulator.mutations.filter((m) => m.kind === "mapUser");
      assert.deepEqual(
        mapped.map((m) => [m.value, m.by]),
        [["jamal@outlook.com -> jamal@fabrikam.com", "jamalhartnett@fabrikam.com"]],
      );

      const read = await mappingProvider.read!(id, outs);
      assert.equal(read.props?.boundPrincipalName, "jamal@fabrikam.com");
      assert.deepEqual(read.inputs, {
        organization: "fabrikam",
        userId: jamal,
        principalName: "jamal@fabrikam.com",
        originId: target.originId,
        role: "owner",
      });
      assert.equal((await mappingProvider.diff!(id, outs, read.inputs)).changes, false);

      await checkAndCreate(mappingProvider, news); // a re-run: already bound, no second call
      assert.equal(emulator.mutations.filter((m) => m.kind === "mapUser").length, 1);

      await mappingProvider.delete!(id, outs);
      assert.equal(emulator.mutations.filter((m) => m.kind === "mapUser").length, 1);
      assert.equal(
        (await mappingProvider.read!(id, outs)).props?.boundOrigin,
        "aad",
        "still mapped after delete",
      );
    });

    it("maps by principal name when the object id is not known", async () => {
      await connect();
      const { outs } = await checkAndCreate(mappingProvider, {
        organization: "fabrikam",
        userId: jamal,
        principalName: "jamal@fabrikam.com",
        role: "owner",
      });
      assert.equal(outs.boundPrincipalName, "jamal@fabrikam.com");
    });

    it("refuses to map onto an identity another organization user holds", async () => {
      await connect();
      // sam.taylor@ is bound to the member sam.taylor@fabrikam.com by the connection.
      await assert.rejects(
        checkAndCreate(mappingProvider, {
          organization: "fabrikam",
          userId: jamal,
          principalName: "sam.taylor@fabrikam.com",
          role: "owner",
        }),
        /Not mapping jamal@outlook\.com to sam\.taylor@fabrikam\.com: the organization user sam\.taylor@fabrikam\.com \(\S+\) holds that identity/,
      );
      assert.equal(emulator.mutations.filter((m) => m.kind === "mapUser").length, 0);
    });

    it("fails with Microsoft's message for an identity the tenant does not have", async () => {
      await connect();
      await assert.rejects(
        checkAndCreate(mappingProvider, {
          organization: "fabrikam",
          userId: jamal,
          principalName: "nobody@fabrikam.com",
          role: "owner",
        }),
        /map user .* to nobody@fabrikam\.com .* failed with HTTP 400: Cannot materialize the graph subject/,
      );
    });
  });

  describe("serialization: what the state holds", () => {
    it("reports Azure DevOps' error text from the serialized provider (the engine shows err.message)", async () => {
      emulator.injectFault({
        method: "POST",
        path: "/_apis/userentitlements",
        body: refusedOperation("5000", "Adding users is paused"),
      });
      const loaded = loadSerializedProvider(await serializeProvider(userProvider));
      await loaded.configure!({ config: CONFIG });
      await assert.rejects(
        loaded.create({
          organization: "fabrikam",
          principalName: TEMPORARY,
          license: "express",
          role: "owner",
        }),
        (err: unknown) => {
          assert.ok(err instanceof Error, "an Error, whose message the engine can print");
          assert.match(
            err.message,
            /add user fabrikam-migration@outlook\.com .* Adding users is paused \(code 5000\)/,
          );
          return true;
        },
      );
    });

    it("holds no token, and the serialized provider works on its own with the tokens of configure", async () => {
      for (const provider of [userProvider, ownerProvider, connectionProvider, mappingProvider]) {
        const text = await serializeProvider(provider);
        for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN])
          assert.ok(!text.includes(token), "no token in the serialized provider");
      }
      forgetTokens();
      const loaded = loadSerializedProvider(await serializeProvider(userProvider));
      await loaded.configure!({ config: CONFIG });
      const created = await loaded.create({
        organization: "fabrikam",
        principalName: TEMPORARY,
        license: "express",
        role: "owner",
      });
      assert.ok(created.id);
      assert.deepEqual(
        emulator.requests.filter((r) => r.method === "POST").map((r) => r.auth),
        ["basic"],
      );
    });
  });
});

describe("dynamic providers: one organization, whatever its spelling", () => {
  // What each resource recorded under an older spelling, and the same inputs spelled as now.
  const recorded: [string, pulumi.dynamic.ResourceProvider, Record<string, unknown>][] = [
    [
      "OrganizationUser",
      userProvider,
      { principalName: "fabrikam-migration@outlook.com", license: "express", role: "owner" },
    ],
    [
      "OrganizationOwner",
      ownerProvider,
      {
        ownerPrincipalName: "fabrikam-migration@outlook.com",
        role: "owner",
        handBackRole: "owner",
      },
    ],
    [
      "TenantConnection",
      connectionProvider,
      { tenantId: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", role: "owner", allowDisconnect: false },
    ],
    [
      "UserMapping",
      mappingProvider,
      { userId: "u-jamal", principalName: "jamal@fabrikam.com", role: "owner" },
    ],
  ];
  for (const [name, provider, inputs] of recorded) {
    it(`${name}: Fabrikam then fabrikam is no change, never a replacement`, async () => {
      assert.ok(provider.diff);
      const diff = await provider.diff(
        "id",
        { ...inputs, organization: "Fabrikam" },
        { ...inputs, organization: "fabrikam" },
      );
      assert.deepEqual(diff.replaces ?? [], []);
      assert.equal(diff.changes, false);
    });
  }
});
