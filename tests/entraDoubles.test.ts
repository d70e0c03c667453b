/**
 * The Entra doubles behave like the real azuread provider and Graph (docs/test-doubles.md):
 * the e2e stand-in called directly, without gRPC or the engine, against an emulator; the random
 * stand-in; the unit mocks and the mini engine, which share the stand-in's code.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import { type Emulator, startEmulator } from "./emulator/server";
import { type TenantUser, type World, objectIdOf } from "./emulator/world";
import {
  GRAPH_SWITCH_ENV,
  INVOKES,
  UNVERIFIED_ENV,
  azureadProvider,
} from "./e2e/standins/azureadProvider";
import { TENANT_URL_ENV } from "./e2e/standins/common";
import { PET_REPRODUCE_ENV, randomProvider } from "./e2e/standins/randomProvider";
import { providerConfig } from "./support/engineLike";
import {
  INVITATION_ATTEMPTS,
  REALISTIC_GRAPH,
  REPLICATION_RETRY_BUDGET,
  type StoredUser,
  type TenantStore,
  createInvitation,
} from "./support/entraGraph";
import { MiniEngine } from "./support/miniEngine";
import { OWNER_TOKEN, fixture, runProgram, stackConfig } from "./support/programRun";
import { TYPES, WorldMocks } from "./support/worldMocks";
import { envFor } from "./support/env";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const urnOf = (type: string, name: string): string =>
  `urn:pulumi:dev::devops-entra-connect::${type}::${name}`;
const INVITATION_URN = urnOf(TYPES.invitation, "guests-new.person@example.org");
const INVITE = {
  userEmailAddress: "new.person@example.org",
  redirectUrl: "https://dev.azure.com/fabrikam",
  userType: "Guest",
};

/** The thrown error, for asserting on its message and the fields the provider server reads. */
async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  return assert.fail("expected a failure");
}

describe("the azuread stand-in, called without the engine", () => {
  let emulator: Emulator;
  const env = envFor();
  beforeEach(async () => {
    emulator = await startEmulator({ world: fixture() });
    env.set(TENANT_URL_ENV, emulator.url);
  });
  afterEach(async () => {
    env.restore();
    await emulator.close();
  });

  const tenant = (): TenantUser[] => emulator.world.tenant.users;
  const userWithMail = (mail: string): TenantUser | undefined =>
    tenant().find((u) => u.mail?.toLowerCase() === mail.toLowerCase());
  const idOf = (u: TenantUser | undefined): string =>
    objectIdOf(u ?? assert.fail("no such user"), emulator.world.tenant.id);
  const create = (inputs: Record<string, unknown> = INVITE): Promise<provider.CreateResult> =>
    azureadProvider.create!(INVITATION_URN, inputs);
  const read = (id: string, props: Record<string, unknown>): Promise<provider.ReadResult> =>
    azureadProvider.read!(id, INVITATION_URN, props);

  describe("Invitation", () => {
    it("has an invitation id as resource id; userId is the new guest's, pending at the initial domain", async () => {
      const created = await create();
      const guest = userWithMail(INVITE.userEmailAddress);
      assert.equal(
        guest?.userPrincipalName,
        "new.person_example.org#EXT#@fabrikam.onmicrosoft.com",
      );
      assert.equal(guest?.externalUserState, "PendingAcceptance");
      assert.equal(created.outs?.userId, idOf(guest));
      assert.match(created.id, GUID);
      assert.notEqual(created.id, created.outs?.userId, "the resource id is not the user's");
      assert.match(
        String(created.outs?.redeemUrl),
        /^https:\/\/login\.microsoftonline\.com\/redeem\?rd=/,
      );
      const again = await create();
      assert.notEqual(again.id, created.id, "each invitation has its own id");
      assert.equal(again.outs?.userId, created.outs?.userId, "the second one finds the same guest");
    });

    it("clears the invited user's companyName (the provider writes a marker, then empty)", async () => {
      const guest = userWithMail("guest@contoso.com");
      assert.ok(guest);
      guest.companyName = "Contoso Ltd";
      const created = await create({ ...INVITE, userEmailAddress: "guest@contoso.com" });
      assert.equal(created.outs?.userId, idOf(guest), "the existing external user is returned");
      assert.equal(userWithMail("guest@contoso.com")?.companyName, null);
    });

    it("reports a changed userEmailAddress once the invitee's mail changed, which the next diff replaces", async () => {
      const created = await create();
      const guest = userWithMail(INVITE.userEmailAddress);
      assert.ok(guest);
      guest.mail = "New.Person@example.org"; // Entra now has another mail for the user
      const refreshed = await read(created.id, created.outs ?? {});
      assert.equal(refreshed.id, created.id);
      assert.equal(refreshed.props?.userEmailAddress, "New.Person@example.org");
      assert.equal(refreshed.inputs?.userEmailAddress, "New.Person@example.org");
      const diff = await azureadProvider.diff!(created.id, INVITATION_URN, refreshed.props, INVITE);
      assert.deepEqual(diff.replaces, ["userEmailAddress"]);
    });

    it("reads a user without mail as an empty userEmailAddress", async () => {
      const created = await create();
      const guest = userWithMail(INVITE.userEmailAddress);
      assert.ok(guest);
      guest.mail = null;
      assert.equal((await read(created.id, created.outs ?? {})).props?.userEmailAddress, "");
    });

    it("keeps the resource with an empty userId when its user is gone, and then fails to delete it", async () => {
      const created = await create();
      const gone = String(created.outs?.userId);
      emulator.removeTenantUser(INVITE.userEmailAddress); // deleted by hand in Entra
      const refreshed = await read(created.id, created.outs ?? {});
      assert.equal(refreshed.id, created.id, "still in the state");
      assert.equal(refreshed.props?.userId, "");
      const err = await failure(azureadProvider.delete!(created.id, INVITATION_URN, created.outs));
      assert.match(err.message, new RegExp(`Deleting invited User \\(User: "${gone}"\\).*404`));
      assert.match(err.message, /Request_ResourceNotFound/);
      const afterRefresh = await failure(
        azureadProvider.delete!(created.id, INVITATION_URN, refreshed.props),
      );
      assert.match(afterRefresh.message, /Deleting invited User \(User: ""\).*404/);
    });

    it("deletes the invited user with the invitation", async () => {
      const created = await create();
      await azureadProvider.delete!(created.id, INVITATION_URN, created.outs);
      assert.equal(userWithMail(INVITE.userEmailAddress), undefined);
    });

    it("refuses the address of a member with Graph's text, also when it is only among their otherMails or proxyAddresses", async () => {
      const err = await failure(
        create({ ...INVITE, userEmailAddress: "Ada.Lovelace@fabrikam.com" }),
      );
      assert.match(
        err.message,
        new RegExp(
          `The invited user already exists in the directory as objectID: ${idOf(userWithMail("ada.lovelace@fabrikam.com"))}`,
        ),
      );
      const jamal = tenant().find((u) => u.userPrincipalName === "jamal@fabrikam.com");
      assert.ok(jamal);
      jamal.otherMails = ["jamal.k@example.net"];
      jamal.proxyAddresses = ["SMTP:jamal@fabrikam.com", "smtp:jk@example.net"];
      for (const address of ["jamal.k@example.net", "JK@example.net"]) {
        const refused = await failure(create({ ...INVITE, userEmailAddress: address }));
        assert.match(refused.message, /already exists in the directory as objectID/, address);
      }
      assert.equal(tenant().length, fixture().tenant.users.length, "nobody was added");
    });

    it("returns an existing external user found by the address inside its guest UPN", async () => {
      const guest = tenant().find((u) => u.userPrincipalName.startsWith("guest_contoso.com#EXT#"));
      assert.ok(guest);
      guest.mail = null;
      const created = await create({ ...INVITE, userEmailAddress: "guest@contoso.com" });
      assert.equal(created.outs?.userId, idOf(guest));
      assert.equal(
        created.outs?.userEmailAddress,
        "",
        "the read at the end of create found no mail",
      );
    });

    it("sends the invitation but fails to initialize when the inviter may not write users", async () => {
      env.set(GRAPH_SWITCH_ENV.inviterCanWriteUsers, "false");
      const err = await failure(create());
      assert.equal(
        err.message,
        "Failed to patch guest user (1) after creating invitation: unexpected status 403 (403 Forbidden) with error: Authorization_RequestDenied: Insufficient privileges to complete the operation.",
      );
      const guest = userWithMail(INVITE.userEmailAddress);
      assert.ok(guest, "Graph created the guest before the PATCH failed");
      assert.match(String(err.id), GUID, "the engine keeps the invitation: it has an id");
      assert.equal((err.properties as Record<string, unknown>).userId, idOf(guest));
      assert.deepEqual(err.reasons, [err.message]);
    });

    it("rides out Entra's replication lag within the provider's retries, and times out beyond them", async () => {
      env.set(GRAPH_SWITCH_ENV.replicationLag, String(REPLICATION_RETRY_BUDGET));
      assert.ok((await create()).id);
      env.set(GRAPH_SWITCH_ENV.replicationLag, String(REPLICATION_RETRY_BUDGET + 1));
      const err = await failure(create({ ...INVITE, userEmailAddress: "late@example.org" }));
      assert.match(
        err.message,
        /^Timed out whilst waiting for new guest user to be replicated in Azure AD: .*404/,
      );
      assert.match(String(err.id), GUID);
      assert.ok(userWithMail("late@example.org"), "the guest exists, only not yet readable");
    });

    it("rides out Graph's throttling of one address within the provider's attempts, and fails beyond them with nothing sent", async () => {
      const fault = (status: number, times?: number): void =>
        env.set(
          GRAPH_SWITCH_ENV.faults,
          JSON.stringify([
            { address: "New.Person@example.org", status, ...(times ? { times } : {}) },
          ]),
        );
      fault(429, INVITATION_ATTEMPTS - 1);
      assert.ok((await create()).id, "the last attempt goes through");
      fault(429, INVITATION_ATTEMPTS);
      const throttled = await failure(
        create({ ...INVITE, userEmailAddress: "new.person@example.org" }),
      );
      assert.equal(
        throttled.message,
        "Creating invitation: unexpected status 429 (429 Too Many Requests) with error: TooManyRequests: Injected fault: Graph answers 429 to the invitation of new.person@example.org.",
      );
      assert.equal(throttled.id, undefined, "no invitation id: the engine keeps nothing");
      fault(503);
      assert.match(
        (await failure(create())).message,
        /unexpected status 503 \(503 Service Unavailable\) with error: ServiceUnavailable:/,
      );
      fault(403, 1);
      assert.match((await failure(create())).message, /status 403/, "a 403 is not retried");
      const other = await create({ ...INVITE, userEmailAddress: "someone.else@example.org" });
      assert.ok(other.id, "other addresses are not affected");
      assert.equal(
        tenant().filter((u) => u.mail === INVITE.userEmailAddress).length,
        1,
        "one guest, from the create that went through",
      );
      env.set(GRAPH_SWITCH_ENV.faults, '[{"address": "x@y.z"}]');
      assert.match(
        (await failure(create())).message,
        /E2E_AZUREAD_GRAPH_FAULTS must be a JSON list/,
      );
    });

    it("records Graph's mail when it differs from the invited address, so the next diff replaces", async () => {
      env.set(
        GRAPH_SWITCH_ENV.guestMail,
        JSON.stringify({ [INVITE.userEmailAddress]: "NEW.PERSON@example.org" }),
      );
      const created = await create();
      assert.equal(created.outs?.userEmailAddress, "NEW.PERSON@example.org");
      const diff = await azureadProvider.diff!(created.id, INVITATION_URN, created.outs, INVITE);
      assert.deepEqual(diff.replaces, ["userEmailAddress"]);
    });

    it("checks an e-mail address, an http(s) redirect URL and the user type", async () => {
      const checked = await azureadProvider.check!(
        INVITATION_URN,
        {},
        {
          userEmailAddress: "not-an-address",
          redirectUrl: "ftp://example.org",
          userType: "Admin",
        },
      );
      assert.deepEqual(
        checked.failures?.map((f) => f.property),
        ["userEmailAddress", "redirectUrl", "userType"],
      );
    });
  });

  describe("invokes", () => {
    const invoke = async (token: string, inputs: Record<string, unknown> = {}) =>
      (await azureadProvider.invoke!(token, inputs)).outputs as Record<string, unknown>;

    it("getClientConfig: id tenant-client-object", async () => {
      const out = await invoke(INVOKES.getClientConfig);
      assert.equal(out.id, `${out.tenantId}-${out.clientId}-${out.objectId}`);
      assert.equal(out.tenantId, emulator.world.tenant.id);
    });

    it("getDomains: verified domains by default, one initial domain, unverified only when asked", async () => {
      const names = (out: Record<string, unknown>) =>
        (out.domains as { domainName: string }[]).map((d) => d.domainName);
      env.set(UNVERIFIED_ENV, "fabrikam.com");
      assert.deepEqual(names(await invoke(INVOKES.getDomains)), ["fabrikam.onmicrosoft.com"]);
      const all = await invoke(INVOKES.getDomains, { includeUnverified: true });
      assert.deepEqual(
        (all.domains as { domainName: string; verified: boolean; default: boolean }[]).map((d) => [
          d.domainName,
          d.verified,
          d.default,
        ]),
        [
          ["fabrikam.com", false, false],
          ["fabrikam.onmicrosoft.com", true, true],
        ],
      );
      assert.match(String(all.id), new RegExp(`^domains#${emulator.world.tenant.id}#`));
      const initial = await invoke(INVOKES.getDomains, { onlyInitial: true });
      assert.deepEqual(names(initial), ["fabrikam.onmicrosoft.com"]);
      await assert.rejects(
        invoke(INVOKES.getDomains, { onlyDefault: true, onlyInitial: true }),
        /conflicts with/,
      );
      env.set(UNVERIFIED_ENV, "fabrikam.com,fabrikam.onmicrosoft.com");
      await assert.rejects(invoke(INVOKES.getDomains), /No domains found for the provided filters/);
    });

    it("getUsers: every user, aligned lists, no userType, an id from the UPNs", async () => {
      const out = await invoke(INVOKES.getUsers, { returnAll: true });
      const users = out.users as Record<string, unknown>[];
      assert.equal(users.length, tenant().length);
      assert.ok(users.every((u) => !("userType" in u)));
      assert.equal((out.mails as string[]).length, users.length);
      assert.equal((out.mails as string[])[5], "", "the admin has no mail");
      assert.match(String(out.id), /^users#[A-Za-z0-9_-]+$/);
      await assert.rejects(invoke(INVOKES.getUsers, { mails: ["a@b.c"] }), /returnAll: true/);
    });

    it("getUser: exactly one lookup, the provider's texts, externalUserState only for invited users", async () => {
      const ada = await invoke(INVOKES.getUser, { mail: "ADA.LOVELACE@fabrikam.com" });
      assert.equal(ada.userPrincipalName, "alovelace@fabrikam.com");
      assert.equal(ada.externalUserState, "", "a member who was never invited");
      assert.equal(ada.id, `/users/${ada.objectId}`);
      const guest = await invoke(INVOKES.getUser, {
        userPrincipalName: "guest_contoso.com#EXT#@fabrikam.onmicrosoft.com",
      });
      assert.equal(guest.externalUserState, "Accepted");
      assert.equal(guest.userType, "Guest");
      await assert.rejects(
        invoke(INVOKES.getUser, {}),
        /one of `employee_id,mail,mail_nickname,object_id,user_principal_name` must be specified/,
      );
      await assert.rejects(
        invoke(INVOKES.getUser, { mail: "a@b.c", objectId: String(ada.objectId) }),
        /only one of/,
      );
      await assert.rejects(
        invoke(INVOKES.getUser, { mail: "nobody@b.c" }),
        /User not found with mail: ""/,
      );
      await assert.rejects(
        invoke(INVOKES.getUser, { objectId: "00000000-0000-0000-0000-000000000001" }),
        /User not found with object ID: "00000000-0000-0000-0000-000000000001"/,
      );
    });
  });
});

describe("the Graph invitation lifecycle on a recording tenant", () => {
  it("writes the provider's marker to companyName, then clears it", async () => {
    const patches: unknown[] = [];
    const users: StoredUser[] = [];
    const store: TenantStore = {
      tenant: async () => ({ id: "t", domains: ["x.onmicrosoft.com"] }),
      invitees: async () => [],
      user: async (id) => users.find((u) => u.objectId === id),
      add: async (u) => void users.push(u),
      patch: async (_id, fields) => void patches.push(fields.companyName),
      remove: async () => undefined,
    };
    await createInvitation(store, { userEmailAddress: "a@b.c" }, REALISTIC_GRAPH);
    assert.equal(patches.length, 2);
    assert.match(String(patches[0]), /^TERRAFORM_UPDATE_[0-9a-f-]{36}$/);
    assert.equal(patches[1], null);
    assert.equal(users[0].userPrincipalName, "a_b.c#EXT#@x.onmicrosoft.com");
  });
});

describe("the random stand-in", () => {
  const env = envFor();
  afterEach(() => env.restore());
  const PET = urnOf("random:index/randomPet:RandomPet", "temporary-owner-alias");

  it("draws a name at random at create, keeps it on read and diffs only inputs", async () => {
    const names = new Set<string>();
    for (let i = 0; i < 8; i++) names.add((await randomProvider.create!(PET, {})).id);
    assert.ok(names.size > 1, `eight draws gave ${[...names].join(", ")}`);
    const [name] = names;
    assert.match(name, /^[a-z]+-[a-z]+$/);
    const read = await randomProvider.read!(name, PET, { length: 2, separator: "-" });
    assert.equal(read.id, name);
    const same = await randomProvider.diff!(name, PET, { length: 2 }, { length: 2 });
    assert.equal(same.changes, false);
    const longer = await randomProvider.diff!(name, PET, { length: 2 }, { length: 3 });
    assert.deepEqual(longer.replaces, ["length"]);
  });

  it("reproduces names from a fixed text", async () => {
    env.set(PET_REPRODUCE_ENV, "run-42");
    const a = await randomProvider.create!(PET, { keepers: { k: "1" } });
    const b = await randomProvider.create!(PET, { keepers: { k: "1" } });
    assert.equal(a.id, b.id);
  });
});

describe("the unit mocks and the mini engine play the stand-in's part", () => {
  let emulator: Emulator;
  afterEach(() => emulator?.close());

  const invitation = (name: string, address: string, retainOnDelete?: boolean) => ({
    type: TYPES.invitation,
    name,
    inputs: {
      userEmailAddress: address,
      redirectUrl: "https://dev.azure.com/fabrikam",
      userType: "Guest",
    },
    options: {
      ignoreChanges: [],
      deleteBeforeReplace: false,
      parent: "",
      dependsOn: [],
      additionalSecretOutputs: [],
      ...(retainOnDelete === undefined ? {} : { retainOnDelete }),
    },
  });
  const engine = (): MiniEngine =>
    new MiniEngine(emulator, providerConfig({ "devops-entra-connect:devopsToken": OWNER_TOKEN }));

  it("mocked invitations add a pending guest to the mocked tenant, except in a preview", async () => {
    const w = fixture();
    const mocks = new WorldMocks(w);
    await pulumi.runtime.setMocks(mocks, "p", "s", true);
    const previewed = await mocks.newResource({
      ...invitation("g", "new@example.org"),
      custom: true,
    });
    assert.equal(previewed.id, undefined);
    const users = (await mocks.call({ token: INVOKES.getUsers, inputs: { returnAll: true } }))
      .users as { mail: string }[];
    assert.ok(!users.some((u) => u.mail === "new@example.org"), "a preview invites nobody");

    await pulumi.runtime.setMocks(mocks, "p", "s", false);
    const created = await mocks.newResource({
      ...invitation("g", "new@example.org"),
      custom: true,
    });
    assert.match(String(created.id), GUID);
    const guest = await mocks.call({ token: INVOKES.getUser, inputs: { mail: "new@example.org" } });
    assert.equal(created.state.userId, guest.objectId);
    assert.equal(guest.externalUserState, "PendingAcceptance");
    assert.equal(guest.userPrincipalName, "new_example.org#EXT#@fabrikam.onmicrosoft.com");
    assert.equal(w.tenant.users.length, fixture().tenant.users.length, "the fixture is untouched");
  });

  it("records the options the program declared: its guests are retained on delete, the temporary owner's invitation until its guest is verified", async () => {
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com" };
    emulator = await startEmulator({ world: w });
    const run = await runProgram(
      emulator,
      new WorldMocks(w),
      stackConfig(w, { temporaryOwner: { msaEmail: "fabrikam-migration@outlook.com" } }),
    );
    const retained = run.mocks
      .registered(TYPES.invitation)
      .map((r) => [r.name, r.options?.retainOnDelete]);
    assert.deepEqual(retained.sort(), [
      ["guests-dev.someone@gmail.com", true],
      ["guests-partner@othercompany.com", true],
      // A first run: its tenant user is not seen yet, so not known to be the account's own.
      ["temporary-owner-invitation", true],
    ]);
  });

  it("the mini engine returns an existing invitee, invites at the tenant's own initial domain, and deletes by the declared options", async () => {
    const w: World = fixture();
    w.tenant.domains = ["contoso.com", "contosotenant.onmicrosoft.com"];
    emulator = await startEmulator({ world: w });
    const e = engine();
    await e.apply([
      invitation("existing", "guest@contoso.com", true),
      invitation("kept", "kept@example.org", true),
      invitation("dropped", "dropped@example.org"),
    ]);
    const upns = emulator.world.tenant.users.map((u) => u.userPrincipalName);
    assert.equal(
      upns.filter((u) => u.startsWith("guest_contoso.com")).length,
      1,
      "no second guest",
    );
    assert.ok(upns.includes("kept_example.org#EXT#@contosotenant.onmicrosoft.com"));
    const steps = await e.apply([]);
    assert.deepEqual(
      steps.map((s) => `${s.op} ${s.name}`),
      ["delete dropped", "delete kept", "delete existing"],
    );
    const left = emulator.world.tenant.users.map((u) => u.mail);
    assert.ok(left.includes("kept@example.org"), "retained on delete: the guest stays");
    assert.ok(left.includes("guest@contoso.com"));
    assert.ok(
      !left.includes("dropped@example.org"),
      "not retained: deleting the invitation deleted the user",
    );
  });

  it("an invitee who left the organization keeps their guest when the invitation leaves the program", async () => {
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com" };
    emulator = await startEmulator({ world: w });
    const e = engine();
    const config = () => stackConfig(emulator.world);
    const first = await runProgram(emulator, new WorldMocks(emulator.world), config());
    await e.apply(first.mocks.registrations);
    const users = emulator.world.users;
    users.splice(
      users.findIndex((u) => u.principalName === "partner@othercompany.com"),
      1,
    );
    const second = await runProgram(emulator, new WorldMocks(emulator.world, e.stack()), config());
    const steps = await e.apply(second.mocks.registrations);
    assert.ok(steps.some((s) => s.op === "delete" && s.name === "guests-partner@othercompany.com"));
    assert.ok(
      emulator.world.tenant.users.some((u) => u.mail === "partner@othercompany.com"),
      "the guest stays in the tenant",
    );
  });
});
