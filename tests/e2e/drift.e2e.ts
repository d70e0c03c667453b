/**
 * Drift on the invitation side, under the real Pulumi engine: Entra spelling a guest's mail
 * otherwise (an admin edit, a case change at redemption) must never replace or delete an
 * invitation, since replacing one re-invites the person and deleting one deletes the guest
 * account (docs/entra.md#replacement, #delete).
 *
 * The `it`s run in order on one stack: the prepare phase of the reference world with a temporary
 * owner configured.
 */
import { strict as assert } from "node:assert";
import type { World } from "../emulator/world";
import { OWNER_TOKEN, TEMPORARY_TOKEN, fixture, stackConfig } from "../support/programRun";
import { type Scenario, ensureCli, newScenario, structuredConfig } from "./harness";

const TEMPORARY = "fabrikam-migration@outlook.com";
const PARTNER = "partner@othercompany.com";
const INVITATION = "azuread:index/invitation:Invitation";

describe("invitation-side drift under the real engine", function () {
  let scenario: Scenario;
  const world = (): World => scenario.emulator.world;

  before(async function () {
    this.timeout(45 * 60 * 1000); // a first CLI build compiles Pulumi from its Go sources
    await ensureCli();
    const w = fixture();
    w.tokens = { [OWNER_TOKEN]: "jamalhartnett@fabrikam.com", [TEMPORARY_TOKEN]: TEMPORARY };
    scenario = await newScenario("drift", w, { backendQuery: "metadata=skip" });
    await scenario.setConfig(
      structuredConfig(
        stackConfig(w, { temporaryOwner: { msaEmail: TEMPORARY, devopsToken: TEMPORARY_TOKEN } }),
      ),
    );
  });
  after(async () => {
    await scenario?.cleanup();
  });

  it("invites the guests and the temporary owner", async () => {
    const up = await scenario.up();
    const created = up.steps.filter((s) => s.type === INVITATION && s.op === "create");
    assert.equal(created.length, 3, JSON.stringify(created.map((s) => s.name)));
  });

  it("after Entra spells two mails otherwise, a refresh and a preview plan no replacement or deletion", async () => {
    for (const u of world().tenant.users) {
      if (u.mail === TEMPORARY || u.mail === PARTNER) {
        u.mail = u.mail.replace(/^./, (c) => c.toUpperCase());
      }
    }
    await scenario.refresh();
    const preview = await scenario.preview();
    const destructive = preview.steps.filter((s) =>
      ["replace", "create-replacement", "delete-replaced", "delete"].includes(s.op),
    );
    assert.deepEqual(
      destructive.map((s) => `${s.op} ${s.name}`),
      [],
    );
  });

  it("the next up keeps every guest, invites nobody twice, and still lists the addresses it invited", async () => {
    const up = await scenario.up();
    assert.equal(up.steps.filter((s) => s.type === INVITATION && s.op === "create").length, 0);
    assert.deepEqual(up.outputs.invitedGuests?.value, ["dev.someone@gmail.com", PARTNER]);
    for (const mail of [TEMPORARY, PARTNER]) {
      assert.equal(
        world().tenant.users.filter((u) => u.mail?.toLowerCase() === mail).length,
        1,
        `${mail} is in the tenant exactly once`,
      );
    }
  });
});
