import { strict as assert } from "node:assert";
import { Emulator, startEmulator } from "./emulator/server";
import { type World, defaultObjectId, defaultUserId } from "./emulator/world";
import {
  OWNER_TOKEN,
  TEMPORARY_TOKEN,
  fixture,
  runProgram,
  stackConfig,
} from "./support/programRun";
import { stackState } from "./support/stackState";
import { TYPES, WorldMocks, unwrap } from "./support/worldMocks";

const TEMPORARY = "fabrikam-migration@outlook.com";
const TEMPORARY_UPN = "fabrikam-migration_outlook.com#EXT#@fabrikam.onmicrosoft.com";
/** The Azure subscription that bills the organization, in a directory other than the tenant. */
const SUBSCRIPTION = "2b53247c-fb65-469e-a711-46e0c29d15a1";
const OTHER_TENANT = "0e3b7c2a-9d41-4f8e-b6a5-1c2d3e4f5a6b";
const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const OWNER_ID = defaultUserId("jamalhartnett@fabrikam.com");
const TEMPORARY_ID = defaultUserId(TEMPORARY);
/** What `prepare` left in the stack's state: this stack invited and added the temporary owner. */
const PREPARED = stackState({
  temporaryOwner: {
    msaEmail: TEMPORARY,
    userId: TEMPORARY_ID,
    ownerBefore: OWNER_ID,
    tenantUserId: defaultObjectId(TENANT, TEMPORARY_UPN),
  },
});
/** What `connect` left: and the ownership it handed to the temporary owner, and the connection. */
const CONNECTED = stackState({
  temporaryOwner: {
    msaEmail: TEMPORARY,
    userId: TEMPORARY_ID,
    ownerBefore: OWNER_ID,
    tenantUserId: defaultObjectId(TENANT, TEMPORARY_UPN),
  },
  ownership: { ownerId: TEMPORARY_ID, previousOwnerId: OWNER_ID },
  connectedTenant: TENANT,
});
/** Operator decisions that clear the reference world's user blockers (leaver and olduser accepted). */
const ACCEPTED = {
  excludeUsers: [],
  acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
};

/** The reference world in which each token maps to its person, as Azure DevOps would see them. */
function world(edit: (w: World) => void = () => undefined): World {
  const w = fixture();
  w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
  edit(w);
  return w;
}

/** After `prepare` was applied and the humans did their part: invited, redeemed, signed in once. */
function readyWorld(edit: (w: World) => void = () => undefined): World {
  return world((w) => {
    w.tenant.users.push({ userPrincipalName: TEMPORARY_UPN, mail: TEMPORARY, userType: "Member" });
    w.users.push({
      principalName: TEMPORARY,
      origin: "msa",
      lastAccessedDate: "2026-11-25T10:00:00Z",
    });
    edit(w);
  });
}

/** Config of a migration through the temporary owner, with the part-1 blockers cleared. */
function cleared(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN },
    ...ACCEPTED,
    allowTfvc: true,
    ...extra,
  };
}

describe("the phases: prepare → connect → resolve → cleanup", () => {
  let emulator: Emulator;
  afterEach(() => emulator?.close());
  const start = async (w: World): Promise<void> => {
    emulator = await startEmulator({ world: w });
  };

  it("prepare registers the guests and the temporary owner pairing, nothing irreversible", async () => {
    const w = world();
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w),
      stackConfig(w, { temporaryOwner: { msaEmail: TEMPORARY } }),
    );
    const types = r.mocks.registrations.map((x) => x.type);
    assert.equal(r.mocks.registered(TYPES.temporaryOwner).length, 1);
    const invitations = r.mocks
      .registered(TYPES.invitation)
      .map((i) => [i.name, i.inputs.userType]);
    assert.deepEqual(invitations.sort(), [
      ["guests-dev.someone@gmail.com", "Guest"],
      ["guests-partner@othercompany.com", "Guest"],
      ["temporary-owner-invitation", "Member"],
    ]);
    const user = r.mocks.registered(TYPES.organizationUser);
    assert.equal(user.length, 1);
    assert.equal(user[0].inputs.principalName, TEMPORARY);
    assert.equal(user[0].inputs.license, "express");
    assert.ok(!types.includes(TYPES.organizationOwner), "no owner change in prepare");
    assert.ok(!types.includes(TYPES.tenantConnection), "no connection in prepare");
    assert.ok(!types.includes(TYPES.randomPet), "no alias once the address is configured");
    // What is left before connect is reported: the account is not invited, not in the organization, no token.
    const codes = r.outputs.migrationPlan.blockers.map((b) => b.code);
    for (const code of [
      "TEMPORARY_OWNER_NOT_INVITED",
      "TEMPORARY_OWNER_NOT_IN_ORGANIZATION",
      "TOKEN_IDENTITY_MISMATCH",
    ]) {
      assert.ok((codes as string[]).includes(code), `${code} in ${codes.join(", ")}`);
    }
    assert.ok(
      !codes.includes("TEMPORARY_OWNER_REQUIRED"),
      "the configured temporary owner answers that blocker",
    );
    assert.match(
      r.outputs.manualSteps,
      /1\. Sign in as fabrikam-migration@outlook\.com, redeem the tenant invitation/,
    );
    assert.match(
      r.outputs.userCommunication.before,
      /Azure DevOps `fabrikam` moves its sign-in to Microsoft Entra ID \(fabrikam\.com\)/,
    );
    assert.match(r.outputs.userCommunication.before, /Planned after 2026-11-26/);
    assert.equal(emulator.mutations.length, 0, "evaluation changes nothing");
  });

  it("prepare is refused on a user listing that is incomplete: the invitations of the users it left out stay", async () => {
    const w = world();
    await start(w);
    const invitees = ["dev.someone@gmail.com", "partner@othercompany.com"];
    const page = (await (
      await fetch(`${emulator.url}/fabrikam/_apis/userentitlements?api-version=7.1`, {
        headers: { Authorization: `Basic ${Buffer.from(`:${OWNER_TOKEN}`).toString("base64")}` },
      })
    ).json()) as { items: { user: { principalName: string } }[]; totalCount: number };
    const truncated = page.items.filter((i) => !invitees.includes(i.user.principalName));
    for (const body of [
      { ...page, items: truncated },
      { items: [], totalCount: 0 },
    ]) {
      emulator.injectFault({ method: "GET", path: /\/_apis\/userentitlements$/, body });
      const mocks = new WorldMocks(w, stackState({ invited: invitees }));
      await assert.rejects(
        runProgram(emulator, mocks, stackConfig(w, { temporaryOwner: { msaEmail: TEMPORARY } })),
        /The prepare phase is refused: 1 blocker\(s\) stand, and nothing was changed\.\n {2}- (INVENTORY_INCOMPLETE: The organization's user listing is not complete, so users could be missed: the service announced 9 users but listed 7|EMPTY_ORGANIZATION: The organization lists no users)/,
      );
      assert.equal(mocks.registrations.length, 0, "nothing declared, so nothing leaves the stack");
    }
    assert.equal(emulator.mutations.length, 0);
  });

  it("refuses a temporary owner that is a pre-existing identity (cleanup would remove it)", async () => {
    const w = readyWorld(); // the account is a user and an accepted member the stack did not create
    await start(w);
    const mocks = new WorldMocks(w);
    await assert.rejects(
      runProgram(emulator, mocks, stackConfig(w, { phase: "prepare", ...cleared() })),
      /The prepare phase is refused, and nothing was changed:\n {2}- devops-entra-connect:temporaryOwner\.msaEmail fabrikam-migration@outlook\.com is already a user of the organization \(fabrikam-migration@outlook\.com\) and an identity of the tenant \(fabrikam-migration_outlook\.com#EXT#@fabrikam\.onmicrosoft\.com\), not an account this stack created; the cleanup phase would remove it/,
    );
    assert.equal(mocks.registrations.length, 0);
  });

  it("refuses a temporary owner address that is a pending guest someone else invited", async () => {
    const w = world((x) => {
      x.tenant.users.push({
        userPrincipalName: TEMPORARY_UPN,
        mail: TEMPORARY,
        userType: "Guest",
        externalUserState: "PendingAcceptance",
      });
    });
    await start(w);
    const mocks = new WorldMocks(w);
    await assert.rejects(
      runProgram(emulator, mocks, stackConfig(w, { phase: "prepare", ...cleared() })),
      /The prepare phase is refused, and nothing was changed:\n {2}- devops-entra-connect:temporaryOwner\.msaEmail fabrikam-migration@outlook\.com is already an identity of the tenant \(fabrikam-migration_outlook\.com#EXT#@fabrikam\.onmicrosoft\.com\), not an account this stack created/,
    );
    assert.equal(
      mocks.registrations.length,
      0,
      "nothing is registered, the invitation least of all",
    );
  });

  it("connect is refused while any blocker stands, with one message listing them all", async () => {
    const w = world((x) => {
      // Invited but not redeemed, in the organization but never signed in.
      x.tenant.users.push({
        userPrincipalName: TEMPORARY_UPN,
        mail: TEMPORARY,
        userType: "Guest",
        externalUserState: "PendingAcceptance",
      });
      x.users.push({ principalName: TEMPORARY, origin: "msa" });
    });
    await start(w);
    const mocks = new WorldMocks(
      w,
      stackState({ temporaryOwner: { msaEmail: TEMPORARY, userId: TEMPORARY_ID } }),
    );
    await assert.rejects(
      runProgram(
        emulator,
        mocks,
        stackConfig(w, {
          phase: "connect",
          temporaryOwner: { msaEmail: TEMPORARY, devopsToken: "someone-else" },
        }),
      ),
      (err: Error) => {
        const lines = err.message.split("\n");
        assert.match(
          lines[0],
          /^The connect phase is refused: 7 blocker\(s\) stand, and nothing was changed\.$/,
        );
        const codes = lines.slice(1).map((l) => /^ {2}- ([A-Z_0-9]+):/.exec(l)?.[1]);
        assert.deepEqual(codes.sort(), [
          "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
          "HISTORIC_USERS_NOT_ACCEPTED",
          "TEMPORARY_OWNER_INVITATION_NOT_REDEEMED",
          "TEMPORARY_OWNER_IS_GUEST",
          "TEMPORARY_OWNER_NEVER_SIGNED_IN",
          "TFVC_IN_USE",
          "TOKEN_IDENTITY_MISMATCH",
        ]);
        return true;
      },
    );
    assert.equal(mocks.registrations.length, 0, "nothing registered");
    assert.equal(emulator.mutations.length, 0);
  });

  it("connect, once cleared, hands ownership to the temporary owner and connects with its token", async () => {
    const w = readyWorld();
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w, PREPARED),
      stackConfig(w, { phase: "connect", ...cleared() }),
    );
    assert.deepEqual(r.outputs.migrationPlan.blockers, []);
    const owner = r.mocks.registered(TYPES.organizationOwner);
    assert.equal(owner.length, 1);
    assert.equal(owner[0].inputs.ownerPrincipalName, TEMPORARY);
    assert.equal(owner[0].inputs.role, "owner");
    assert.equal(owner[0].inputs.handBackRole, "owner");
    const connection = r.mocks.registered(TYPES.tenantConnection);
    assert.equal(connection.length, 1);
    assert.equal(connection[0].inputs.tenantId, w.tenant.id);
    assert.equal(connection[0].inputs.role, "temporaryOwner");
    assert.equal(connection[0].inputs.allowDisconnect, false);
    assert.equal(r.mocks.registered(TYPES.directoryConnection).length, 1);
    assert.equal(await unwrap(r.outputs.connection?.tenantId as never), w.tenant.id);
  });

  it("connect warns that billing is in another tenant, gives the step, and connects anyway", async () => {
    const w = readyWorld((x) => {
      x.billing = { subscriptionId: SUBSCRIPTION, subscriptionTenantId: OTHER_TENANT };
    });
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w, PREPARED),
      stackConfig(w, { phase: "connect", ...cleared() }),
    );
    assert.deepEqual(r.outputs.migrationPlan.blockers, [], "billing never blocks");
    const warning = r.outputs.migrationPlan.warnings.find(
      (f) => f.code === "BILLING_IN_OTHER_TENANT",
    );
    assert.match(warning?.message ?? "", /once the organization is connected to tenant 6f1c2a3b/);
    assert.match(
      r.outputs.manualSteps,
      /^1\. Move billing into the tenant's directory \(`BILLING_IN_OTHER_TENANT`\): Azure subscription 2b53247c/,
    );
    assert.match(r.outputs.report, /`BILLING_IN_OTHER_TENANT`/);
    assert.equal(r.mocks.registered(TYPES.tenantConnection).length, 1);
    assert.deepEqual(
      emulator.requests.filter((q) => q.path.startsWith("/subscriptions/")).map((q) => q.auth),
      ["none"],
      "neither token went to Azure Resource Manager",
    );
  });

  it("connect without a temporary owner needs the owner to be an active member, and connects as the owner", async () => {
    // Ada's MSA differs from her Entra UPN (alovelace@), so she can connect herself.
    const w = world((x) => {
      x.owner = "ada.lovelace@fabrikam.com";
      x.tokens = { [OWNER_TOKEN]: "ada.lovelace@fabrikam.com" };
    });
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w),
      stackConfig(w, { phase: "connect", ...ACCEPTED, allowTfvc: true }),
    );
    assert.equal(r.mocks.registered(TYPES.temporaryOwner).length, 0);
    assert.equal(r.mocks.registered(TYPES.organizationOwner).length, 0);
    assert.equal(r.mocks.registered(TYPES.tenantConnection)[0].inputs.role, "owner");
  });

  it("connect refuses a token that belongs to someone else than the owner who connects", async () => {
    const w = world((x) => {
      x.owner = "ada.lovelace@fabrikam.com";
      x.tokens = { [OWNER_TOKEN]: "sam.taylor@fabrikam.com" };
    });
    await start(w);
    await assert.rejects(
      runProgram(
        emulator,
        new WorldMocks(w),
        stackConfig(w, { phase: "connect", ...ACCEPTED, allowTfvc: true }),
      ),
      /TOKEN_IDENTITY_MISMATCH: devops-entra-connect:devopsToken belongs to sam\.taylor@fabrikam\.com, not to ada\.lovelace@fabrikam\.com/,
    );
  });

  it("connect checks a token by its profile's user id: a preferred e-mail other than the sign-in name is no mismatch", async () => {
    const w = readyWorld((x) => {
      // The profile's e-mail is the person's preferred address, not their sign-in name (rule PF1).
      x.users.find((u) => u.principalName === TEMPORARY)!.profileEmail = "me@personal.example";
      x.users.find((u) => u.principalName === "jamalhartnett@fabrikam.com")!.profileEmail =
        "jamal.h@home.example";
    });
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w, PREPARED),
      stackConfig(w, { phase: "connect", ...cleared() }),
    );
    assert.deepEqual(r.outputs.migrationPlan.blockers, []);
    assert.equal(r.mocks.registered(TYPES.tenantConnection).length, 1);
  });

  it("connect is refused, with the fix, for a token made for one organization that the profile service refuses", async () => {
    const w = readyWorld((x) => {
      x.tokens = {
        ...x.tokens,
        [TEMPORARY_TOKEN]: { principalName: TEMPORARY, allOrganizations: false },
      };
    });
    await start(w);
    await assert.rejects(
      runProgram(
        emulator,
        new WorldMocks(w, PREPARED),
        stackConfig(w, { phase: "connect", ...cleared() }),
      ),
      /TOKEN_IDENTITY_MISMATCH: devops-entra-connect:temporaryOwner\.devopsToken could not be checked: .*The profile service refuses a personal access token made for one organization: create it for All accessible organizations/,
    );
    assert.deepEqual(emulator.mutations, [], "nothing was changed");
    // Where the profile service takes such a token (behaviour profileTokens "any"), it connects.
    emulator.behaviour = { profileTokens: "any" };
    const r = await runProgram(
      emulator,
      new WorldMocks(w, PREPARED),
      stackConfig(w, { phase: "connect", ...cleared() }),
    );
    assert.deepEqual(r.outputs.migrationPlan.blockers, []);
  });

  it("resolve maps the identity change and the users the connection left disconnected", async () => {
    const w = readyWorld((x) => {
      x.tenantId = x.tenant.id;
      x.owner = TEMPORARY;
      // What the connection bound; jamal@outlook.com (identity change) and the late guest stay MSA.
      for (const u of x.users) {
        if (
          !["jamal@outlook.com", "leaver@othercompany.com", "olduser@fabrikam.com"].includes(
            u.principalName,
          )
        ) {
          u.origin = "aad";
        }
      }
      x.users.push({ principalName: "late@partner.org", origin: "msa" });
      x.tenant.users.push({
        userPrincipalName: "late_partner.org#EXT#@fabrikam.onmicrosoft.com",
        mail: "late@partner.org",
        userType: "Guest",
      });
    });
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w, CONNECTED),
      stackConfig(w, { phase: "resolve", ...cleared() }),
    );
    const mappings = r.mocks
      .registered(TYPES.userMapping)
      .map((m) => [m.name, m.inputs.principalName, m.inputs.role]);
    assert.deepEqual(mappings.sort(), [
      ["map-jamal@outlook.com", "jamal@fabrikam.com", "owner"],
      ["map-late@partner.org", "late@partner.org", "owner"],
    ]);
    const jamal = r.mocks
      .registered(TYPES.userMapping)
      .find((m) => m.name === "map-jamal@outlook.com");
    assert.match(
      String(jamal?.inputs.originId),
      /^[0-9a-f-]{36}$/,
      "mapped by the Entra object id the scan found",
    );
    assert.deepEqual(r.outputs.identityMappings.map((m) => `${m.from} -> ${m.to}`).sort(), [
      "jamal@outlook.com -> jamal@fabrikam.com",
      "late@partner.org -> late@partner.org",
    ]);
    assert.equal(
      r.mocks.registered(TYPES.organizationOwner).length,
      1,
      "the temporary owner stays owner until cleanup",
    );
    assert.equal(r.mocks.registered(TYPES.tenantConnection)[0].inputs.role, "owner");
    assert.match(
      r.outputs.manualSteps,
      /Run `pulumi up` to map 2 user\(s\) to their Entra identity/,
    );
    assert.equal(emulator.mutations.length, 0, "evaluation changes nothing");
  });

  it("resolve is refused before the organization is connected", async () => {
    const w = readyWorld();
    await start(w);
    await assert.rejects(
      runProgram(
        emulator,
        new WorldMocks(w, PREPARED),
        stackConfig(w, { phase: "resolve", ...cleared() }),
      ),
      /phase is resolve, but the organization is not connected/,
    );
  });

  it("cleanup drops the pairing and keeps the connection and the guests", async () => {
    const w = readyWorld((x) => {
      x.tenantId = x.tenant.id;
      x.owner = TEMPORARY;
    });
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w, {
        ...CONNECTED,
        ...stackState({ invited: ["dev.someone@gmail.com", "partner@othercompany.com"] }),
      }),
      stackConfig(w, { phase: "cleanup", ...cleared() }),
    );
    const types = new Set(r.mocks.registrations.map((x) => x.type));
    for (const gone of [
      TYPES.temporaryOwner,
      TYPES.organizationOwner,
      TYPES.organizationUser,
      TYPES.randomPet,
    ]) {
      assert.ok(!types.has(gone), `${gone} leaves the program in cleanup`);
    }
    assert.ok(
      !r.mocks.registered(TYPES.invitation).some((i) => i.name.startsWith("temporary-owner")),
    );
    assert.equal(r.mocks.registered(TYPES.tenantConnection)[0].inputs.role, "owner");
    assert.deepEqual(r.invitedGuests, ["dev.someone@gmail.com", "partner@othercompany.com"]);
    assert.match(
      r.outputs.manualSteps,
      /Close the temporary Microsoft account fabrikam-migration@outlook\.com/,
    );
    assert.match(
      r.outputs.userCommunication.after,
      /As of 2026-11-26, sign in to https:\/\/dev\.azure\.com\/fabrikam with your fabrikam\.com work account/,
    );
  });

  it("resolve and cleanup do not read billing again", async () => {
    const w = readyWorld((x) => {
      x.tenantId = x.tenant.id;
      x.owner = TEMPORARY;
      x.billing = { subscriptionId: SUBSCRIPTION, subscriptionTenantId: OTHER_TENANT };
    });
    await start(w);
    for (const phase of ["resolve", "cleanup"]) {
      const r = await runProgram(
        emulator,
        new WorldMocks(w, CONNECTED),
        stackConfig(w, { phase, ...cleared() }),
      );
      const plan = r.outputs.migrationPlan;
      assert.ok(![...plan.warnings, ...plan.notices].some((f) => f.code.startsWith("BILLING")));
    }
    assert.ok(
      !emulator.requests.some(
        (q) => q.path.endsWith("/BillingSetup") || q.path.startsWith("/subscriptions/"),
      ),
    );
  });

  it("refuses to go on when the organization was moved to another tenant", async () => {
    const w = readyWorld((x) => {
      x.tenantId = "11111111-2222-3333-4444-555555555555";
    });
    await start(w);
    for (const phase of ["connect", "resolve", "cleanup"]) {
      const mocks = new WorldMocks(w, PREPARED);
      await assert.rejects(
        runProgram(emulator, mocks, stackConfig(w, { phase, ...cleared() })),
        new RegExp(
          `The ${phase} phase is refused, and nothing was changed:\\n {2}- The organization is connected to tenant 11111111-2222-3333-4444-555555555555, not to 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\\..*switch it back in the portal`,
          "s",
        ),
      );
      assert.equal(mocks.registrations.length, 0);
    }
  });

  it("cleanup is refused before the organization is connected", async () => {
    const w = readyWorld();
    await start(w);
    await assert.rejects(
      runProgram(
        emulator,
        new WorldMocks(w, PREPARED),
        stackConfig(w, { phase: "cleanup", ...cleared() }),
      ),
      /The cleanup phase is refused, and nothing was changed:\n {2}- devops-entra-connect:phase is cleanup, but the organization is not connected to tenant 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b \(it reports no tenant\)\. Run the connect phase first\./,
    );
  });

  it("keeps both tokens out of every registration, serialized provider and output", async () => {
    const w = readyWorld();
    await start(w);
    const r = await runProgram(
      emulator,
      new WorldMocks(w, PREPARED),
      stackConfig(w, { phase: "connect", ...cleared() }),
    );
    const dynamic = r.mocks.registrations.filter((x) =>
      x.type.startsWith("pulumi-nodejs:dynamic/"),
    );
    assert.equal(dynamic.length, 3);
    for (const d of dynamic)
      assert.ok(String(d.inputs.__provider).length > 1000, "the provider was serialized");
    const everything = JSON.stringify({ registrations: r.mocks.registrations, outputs: r.outputs });
    for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN])
      assert.ok(!everything.includes(token), "no token value");
  });
});
