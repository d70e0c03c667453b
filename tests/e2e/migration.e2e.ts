/**
 * A whole migration of the reference world under the real Pulumi engine, on one stack: prepare,
 * connect (refused, then applied), refresh and drift, resolve, cleanup, destroy, and what the state
 * and the logs hold. The dynamic providers run in the engine's own provider process, from their
 * serialized form in the state; azuread and random are the stand-ins.
 *
 * The `it`s run in order and build on each other's state.
 */
import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import type { World } from "../emulator/world";
import { OWNER_TOKEN, TEMPORARY_TOKEN, fixture, stackConfig } from "../support/programRun";
import {
  EngineError,
  type OperationOutcome,
  type Scenario,
  ensureCli,
  newScenario,
  SECRET_SIG,
  SECRET_SIG_KEY,
  TEST_PASSPHRASE,
  structuredConfig,
} from "./harness";
import { automaticLogs, filesBelow, holders } from "./tokenTrace";
import { refusedOperation } from "../support/faults";

const TEMPORARY = "fabrikam-migration@outlook.com";
const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const OTHER_TENANT = "11111111-2222-3333-4444-555555555555";
const INVITEES = ["dev.someone@gmail.com", "partner@othercompany.com"];
const CONNECTION = "pulumi-nodejs:dynamic/devops-entra-connect:TenantConnection";

/** Steps that change something, as `op name` (the engine's own provider steps left out). */
const changes = (o: OperationOutcome): string[] =>
  o.steps
    .filter(
      (s) => !["same", "read", "refresh"].includes(s.op) && !s.type.startsWith("pulumi:providers:"),
    )
    .map((s) => `${s.op} ${s.name}`);

describe("a whole migration under the real Pulumi engine", function () {
  let scenario: Scenario;
  const world = (): World => scenario.emulator.world;
  const mutations = (): string[] => scenario.emulator.mutations.map((m) => `${m.kind} ${m.value}`);
  const control = async (what: string, body: unknown): Promise<void> => {
    const res = await fetch(`${scenario.emulator.url}/_emulator/${what}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, `${what} ${JSON.stringify(body)}`);
  };

  before(async function () {
    this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
    await ensureCli();
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    scenario = await newScenario("migration", w, { backendQuery: "metadata=skip" });
    await scenario.setConfig(
      structuredConfig(
        stackConfig(w, { temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN } }),
      ),
    );
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

  it("prepare: invites the users and the temporary owner, and adds it to the organization", async () => {
    const up = await scenario.up();
    assert.deepEqual(changes(up).sort(), [
      `create devops-entra-connect-${scenario.stackName}`,
      "create guests",
      "create guests-dev.someone@gmail.com",
      "create guests-partner@othercompany.com",
      "create temporary-owner",
      "create temporary-owner-invitation",
      "create temporary-owner-user",
    ]);
    assert.deepEqual(mutations(), [`addUser ${TEMPORARY}`]);
    const temporary = world().tenant.users.find((u) => u.mail === TEMPORARY);
    assert.equal(temporary?.userType, "Member", "the temporary owner is invited as a member");
    assert.equal(temporary?.externalUserState, "PendingAcceptance");
  });

  it("connect is refused while blockers stand: one message lists them all, nothing is applied", async () => {
    await scenario.setConfig({ phase: "connect" });
    const before = (await scenario.exportState()).deployment as { resources: unknown[] };
    await assert.rejects(scenario.up(), (err: unknown) => {
      assert.ok(err instanceof EngineError, String(err));
      assert.match(
        err.message,
        /The connect phase is refused: \d+ blocker\(s\) stand, and nothing was changed\./,
      );
      for (const code of [
        "HISTORIC_USERS_NOT_ACCEPTED",
        "EXCLUDED_USERS_STILL_IN_ORGANIZATION",
        "TFVC_IN_USE",
        "TEMPORARY_OWNER_INVITATION_NOT_REDEEMED",
        "TEMPORARY_OWNER_NEVER_SIGNED_IN",
      ]) {
        assert.ok(err.message.includes(code), `${code} in:\n${err.message}`);
      }
      return true;
    });
    assert.deepEqual(mutations(), [`addUser ${TEMPORARY}`], "nothing applied");
    const after = (await scenario.exportState()).deployment as { resources: unknown[] };
    assert.equal(after.resources.length, before.resources.length, "the state is unchanged");
  });

  it("connect, once cleared: ownership moves to the temporary owner, which connects", async () => {
    await scenario.setConfig({
      excludeUsers: [],
      acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
      allowTfvc: true,
    });
    for (const address of [TEMPORARY, ...INVITEES]) await control("redeem", { address });
    await control("signin", { principalName: TEMPORARY });

    const preview = await scenario.preview();
    assert.deepEqual(changes(preview).sort(), [
      "create directory",
      "create directory-connection",
      "create temporary-owner-ownership",
    ]);
    const up = await scenario.up();
    assert.deepEqual(changes(up).sort(), changes(preview).sort());
    assert.equal(world().tenantId, TENANT);
    assert.equal(world().owner, TEMPORARY);
    assert.deepEqual(mutations(), [
      `addUser ${TEMPORARY}`,
      `owner ${TEMPORARY}`,
      `tenant ${TENANT}`,
    ]);
    assert.equal(up.outputs.connection?.value?.tenantId, TENANT);
    assert.deepEqual(changes(await scenario.preview()), [], "no changes after connecting");
  });

  it("refresh shows no drift; a tenant changed in the portal shows as drift and blocks the next preview", async () => {
    // What refresh may change: the resources' recorded outputs.
    const managed = async (): Promise<Record<string, unknown>> => {
      const state = (await scenario.exportState()).deployment as {
        resources: { urn: string; type: string; outputs?: unknown }[];
      };
      return Object.fromEntries(
        state.resources
          .filter((r) => r.type !== "pulumi:pulumi:Stack")
          .map((r) => [r.urn, r.outputs]),
      );
    };
    const before = await managed();
    await scenario.refresh();
    assert.deepEqual(await managed(), before, "refresh finds no drift");

    world().tenantId = OTHER_TENANT; // switched by hand in the portal
    const drifted = await scenario.refresh();
    assert.ok((drifted.summary.update ?? 0) >= 1, JSON.stringify(drifted.summary));
    const after = await managed();
    const changed = Object.keys(after).filter(
      (urn) => JSON.stringify(after[urn]) !== JSON.stringify(before[urn]),
    );
    assert.deepEqual(
      changed.map((urn) => urn.slice(urn.lastIndexOf("::") + 2)),
      ["directory-connection"],
      "refresh records the tenant the organization is really on, and nothing else",
    );
    assert.equal((after[changed[0]] as { tenantId?: string }).tenantId, OTHER_TENANT);
    await assert.rejects(
      scenario.preview(),
      /The connect phase is refused, and nothing was changed:\n {2}- The organization is connected to tenant 11111111-2222-3333-4444-555555555555, not to 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\.[^\n]*switch it back in the portal[^\n]*$/,
    );

    world().tenantId = TENANT; // switched back
    await scenario.refresh();
    assert.deepEqual(changes(await scenario.preview()), []);
  });

  it("resolve maps the identity change and the mail-only match after the connection", async () => {
    await scenario.setConfig({ phase: "resolve" });
    const up = await scenario.up();
    // ada.lovelace@ is her member's mail, not its sign-in name: the connection did not bind her.
    assert.deepEqual(changes(up).sort(), [
      "create map-ada.lovelace@fabrikam.com",
      "create map-jamal@outlook.com",
      "update directory-connection",
    ]);
    const jamal = world().users.find((u) => u.principalName === "jamal@fabrikam.com");
    assert.equal(jamal?.origin, "aad");
    assert.deepEqual(up.outputs.identityMappings?.value?.map((m: { to: string }) => m.to).sort(), [
      "alovelace@fabrikam.com",
      "jamal@fabrikam.com",
    ]);
    assert.deepEqual(changes(await scenario.preview()), [], "no changes after mapping");
  });

  it("cleanup hands ownership back, removes the temporary user and its guest, keeps the rest", async () => {
    await scenario.setConfig({ phase: "cleanup" });
    const up = await scenario.up();
    const deletes = changes(up).filter((c) => c.startsWith("delete"));
    assert.deepEqual(deletes, [
      "delete temporary-owner-ownership",
      "delete temporary-owner-user",
      "delete temporary-owner-invitation",
      "delete temporary-owner",
    ]);
    const w = world();
    assert.equal(w.owner, "jamalhartnett@fabrikam.com");
    assert.ok(
      !w.users.some((u) => u.principalName === TEMPORARY),
      "the temporary user left the organization",
    );
    assert.ok(!w.tenant.users.some((u) => u.mail === TEMPORARY), "its guest left the tenant");
    for (const address of INVITEES)
      assert.ok(
        w.tenant.users.some((u) => u.mail === address),
        `${address} stays`,
      );
    assert.equal(w.tenantId, TENANT);
    const afterConnect = mutations().slice(3);
    // The engine maps the two users in parallel: in either order, then the hand-back, then removal.
    assert.deepEqual(afterConnect.slice(0, 2).sort(), [
      "mapUser ada.lovelace@fabrikam.com -> alovelace@fabrikam.com",
      "mapUser jamal@outlook.com -> jamal@fabrikam.com",
    ]);
    assert.deepEqual(afterConnect.slice(2), [
      "owner jamalhartnett@fabrikam.com",
      `removeUser ${TEMPORARY}`,
    ]);
    assert.deepEqual(changes(await scenario.preview()), []);
  });

  it("keeps tokens out of resources, outputs, logs and the settings file; config tokens are only encrypted", async () => {
    const state = (await scenario.exportState()).deployment as {
      resources: {
        urn: string;
        type: string;
        inputs?: Record<string, unknown>;
        outputs?: unknown;
      }[];
    };
    // The export decrypts secrets (--show-secrets). The engine records the whole stack config as
    // the inputs of the dynamic providers' default provider (encrypted in the file): that is the
    // one place a token set in config lands, which the program warns about.
    const holders = state.resources
      .filter((r) => [OWNER_TOKEN, TEMPORARY_TOKEN].some((t) => JSON.stringify(r).includes(t)))
      .map((r) => r.urn.slice(r.urn.lastIndexOf("::") + 2));
    assert.deepEqual(holders, ["default"], "only the engine's record of the stack config");
    const provider = state.resources.find((r) => r.type === "pulumi:providers:pulumi-nodejs");
    const recorded = provider?.inputs?.["devops-entra-connect:devopsToken"] as Record<
      string,
      unknown
    >;
    assert.equal(
      recorded?.[SECRET_SIG_KEY],
      SECRET_SIG,
      "recorded as a secret (encrypted in the file)",
    );
    assert.equal(recorded?.plaintext, JSON.stringify(OWNER_TOKEN), "decrypted only by the export");
    // Every file of the backend (checkpoints, backups, history), and the engine's automatic logs.
    const checkpoint = filesBelow(scenario.dirs.backend)
      .map((f) => f.text)
      .join("\n");
    const engineLogs = automaticLogs(scenario, TEST_PASSPHRASE)
      .map((f) => f.text)
      .join("\n");
    const settings = readdirSync(scenario.dirs.work)
      .filter((f) => /^Pulumi\..*\.ya?ml$/.test(f))
      .map((f) => readFileSync(path.join(scenario.dirs.work, f), "utf8"))
      .join("\n");
    assert.ok(
      settings.includes("secure:"),
      "the tokens are stored encrypted in the stack settings",
    );
    for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN]) {
      assert.ok(!checkpoint.includes(token), "the backend holds no plaintext token");
      assert.ok(!scenario.logs().includes(token), "no token in any log");
      assert.ok(!engineLogs.includes(token), "no token in the engine's automatic logs");
      assert.ok(!settings.includes(token), "no plaintext token in the stack settings");
      assert.ok(!JSON.stringify(scenario.emulator.requests).includes(token), "nor in a URL");
    }
    const config = await scenario.stack.getAllConfig();
    assert.equal(config["devops-entra-connect:devopsToken"]?.secret, true);
    assert.equal(config["devops-entra-connect:temporaryOwner"]?.secret, true);
    assert.ok(
      scenario
        .logs()
        .includes("A token is set in the stack config: the engine records the stack config"),
      "the program warns that config tokens reach the state, encrypted",
    );
  });

  it("destroy is refused for the protected connection; once unprotected it keeps the guests and the connection", async () => {
    await assert.rejects(scenario.destroy(), /protect/i);
    const state = await scenario.exportState();
    const resources = (state.deployment as { resources: { type: string; protect?: boolean }[] })
      .resources;
    const connection = resources.find((r) => r.type === CONNECTION);
    assert.equal(connection?.protect, true);
    // `pulumi state unprotect`, done on an exported state as the Automation API allows.
    for (const r of resources) if (r.type === CONNECTION) r.protect = false;
    await scenario.stack.importStack(state);

    await scenario.destroy();
    const w = world();
    for (const address of INVITEES)
      assert.ok(
        w.tenant.users.some((u) => u.mail === address),
        `${address} stays a guest`,
      );
    assert.equal(w.tenantId, TENANT, "without allowDisconnect the organization stays connected");
    assert.equal(
      w.users.find((u) => u.principalName === "jamal@fabrikam.com")?.origin,
      "aad",
      "mappings stay",
    );
    assert.ok(!mutations().some((m) => m.startsWith("tenant 00000000")), "no disconnect was sent");
  });
});

describe("faults under the real engine: Azure DevOps fails in the middle of an up", function () {
  let scenario: Scenario;
  before(async function () {
    this.timeout(45 * 60 * 1000);
    await ensureCli();
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    // Tokens through the environment, as pipelines should pass them: then not even an encrypted
    // copy reaches the state.
    scenario = await newScenario("faults", w, {
      backendQuery: "metadata=skip",
      env: { AZDO_PERSONAL_ACCESS_TOKEN: OWNER_TOKEN, AZDO_TEMPORARY_OWNER_TOKEN: TEMPORARY_TOKEN },
    });
    const config = structuredConfig(stackConfig(w, { temporaryOwner: { msaEmail: TEMPORARY } }));
    delete config["devops-entra-connect:devopsToken"];
    await scenario.setConfig(config);
  });
  after(async () => {
    if (scenario) await scenario.cleanup();
  });

  it("a permanent failure fails the up cleanly; the next up converges with nothing duplicated", async () => {
    scenario.emulator.injectFault({
      method: "POST",
      path: "/_apis/userentitlements",
      body: refusedOperation("5000", "Adding users is paused"),
    });
    await assert.rejects(
      scenario.up(),
      /add user fabrikam-migration@outlook\.com .*isSuccess:false\): Adding users is paused \(code 5000\)/s,
    );
    assert.equal(scenario.emulator.mutations.length, 0);

    const up = await scenario.up();
    assert.ok(changes(up).includes("create temporary-owner-user"));
    assert.ok(
      !changes(up).some((c) => c.includes("guests-")),
      "the invitations made by the failed run are not redone",
    );
    assert.deepEqual(
      scenario.emulator.mutations.map((m) => m.kind),
      ["addUser"],
    );
    const guests = scenario.emulator.world.tenant.users.filter((u) =>
      INVITEES.includes(String(u.mail)),
    );
    assert.equal(guests.length, 2, "each invitee once");
  });

  it("429 and 500 in the middle of an up are retried and the up succeeds", async () => {
    await scenario.setConfig({
      phase: "connect",
      excludeUsers: [],
      acceptHistoricUsers: ["olduser@fabrikam.com", "leaver@othercompany.com"],
      allowTfvc: true,
    });
    for (const address of [TEMPORARY, ...INVITEES]) scenario.emulator.redeem(address);
    scenario.emulator.signIn(TEMPORARY);
    scenario.emulator.injectFault({
      method: "PATCH",
      path: "Collections/Me",
      status: 429,
      retryAfter: 1,
    });
    scenario.emulator.injectFault({
      method: "PATCH",
      path: "Organizations/Me",
      status: 500,
      times: 2,
    });
    const up = await scenario.up();
    assert.ok(changes(up).includes("create directory-connection"));
    assert.equal(scenario.emulator.world.tenantId, TENANT);
    const statuses = scenario.emulator.requests
      .filter((r) => r.method === "PATCH")
      .map((r) => r.status);
    assert.deepEqual(statuses, [429, 200, 500, 500, 200]);
    assert.deepEqual(
      scenario.emulator.mutations.map((m) => m.kind),
      ["addUser", "owner", "tenant"],
      "each change made once",
    );
    assert.deepEqual(changes(await scenario.preview()), []);
  });

  it("with tokens from the environment, the state holds no token at all, not even encrypted", async () => {
    const places = {
      "state export (decrypted)": JSON.stringify(await scenario.exportState()),
      "backend files": filesBelow(scenario.dirs.backend)
        .map((f) => f.text)
        .join("\n"),
      "engine's automatic logs": automaticLogs(scenario, TEST_PASSPHRASE)
        .map((f) => f.text)
        .join("\n"),
      "command output": scenario.logs(),
      "emulator request log": JSON.stringify(scenario.emulator.requests),
    };
    for (const token of [OWNER_TOKEN, TEMPORARY_TOKEN])
      assert.deepEqual(holders(places, token), []);
  });
});
