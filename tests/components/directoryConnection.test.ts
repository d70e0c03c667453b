/**
 * DirectoryConnection alone under mocks: the protected connection it declares, what the provider
 * checks again before connecting, and what the connection waits for (docs/procedure.md#connect).
 */
import { strict as assert } from "node:assert";
import {
  DirectoryConnection,
  type DirectoryConnectionArgs,
} from "../../components/directoryConnection";
import { TemporaryOwner } from "../../components/temporaryOwner";
import { TenantGuests } from "../../components/tenantGuests";
import { ledgerOf } from "../../inventory/stack";
import {
  PINNED_TYPES,
  WITH_TOKENS,
  declarations,
  type ConstructOptions,
  construct,
  declaredInputs,
  identities,
  tokensCarried,
} from "../support/componentRun";

const { directoryConnection: COMPONENT, tenantConnection: CONNECTION } = PINNED_TYPES;

const TENANT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const REDIRECT = "https://dev.azure.com/fabrikam";
const PRECONDITIONS = { usersDigest: "9:0123abcd", ownerId: "u-temp", allowTfvc: false };

const directory = (args: Partial<DirectoryConnectionArgs> = {}, options: ConstructOptions = {}) =>
  construct(
    () =>
      new DirectoryConnection("directory", {
        organization: "fabrikam",
        tenantId: TENANT,
        role: "owner",
        ...args,
      }),
    options,
  );

describe("component DirectoryConnection", () => {
  it("declares one protected connection under itself, named directory-connection", async () => {
    const { self, children, mocks } = await directory();
    assert.equal(self.type, COMPONENT);
    assert.equal(self.name, "directory");
    assert.deepEqual(identities(children), [`${CONNECTION}::directory-connection`]);
    assert.equal(mocks.registrations.length, 2, "nothing outside the component");
    assert.deepEqual(children[0].options, {
      protect: true,
      ignoreChanges: [],
      deleteBeforeReplace: false,
      parent: self.urn,
      dependsOn: [],
      additionalSecretOutputs: [],
    });
  });

  it("stays connected on delete unless asked, and verifies with the provider's defaults", async () => {
    const { child } = await directory();
    assert.deepEqual(declaredInputs(child(CONNECTION, "directory-connection")), {
      organization: "fabrikam",
      tenantId: TENANT,
      role: "owner",
      allowDisconnect: false,
      verifyAttempts: 10,
      verifyIntervalMs: 3000,
    });
  });

  it("hands the provider the preconditions to check again right before connecting, and the caller", async () => {
    const { child } = await directory({
      role: "temporaryOwner",
      allowDisconnect: true,
      preconditions: PRECONDITIONS,
      verifyAttempts: 2,
      verifyIntervalMs: 10,
    });
    assert.deepEqual(declaredInputs(child(CONNECTION, "directory-connection")), {
      organization: "fabrikam",
      tenantId: TENANT,
      role: "temporaryOwner",
      allowDisconnect: true,
      preconditions: PRECONDITIONS,
      verifyAttempts: 2,
      verifyIntervalMs: 10,
    });
  });

  it("connects only after the guests are invited and the temporary owner owns the organization", async () => {
    const { child, mocks } = await construct(() => {
      const guests = new TenantGuests("guests", {
        invitees: [{ email: "partner@othercompany.com" }, { email: "dev.someone@gmail.com" }],
        redirectUrl: REDIRECT,
      });
      const temporary = new TemporaryOwner("temporary-owner", {
        organization: "fabrikam",
        msaEmail: "fabrikam-migration@outlook.com",
        redirectUrl: REDIRECT,
        stage: "owner",
      });
      assert.ok(temporary.ownership);
      return new DirectoryConnection("directory", {
        organization: "fabrikam",
        tenantId: TENANT,
        role: "temporaryOwner",
        dependsOn: [guests, temporary.ownership],
      });
    });
    const urnOf = (name: string) => mocks.registrations.find((r) => r.name === name)?.urn;
    // The SDK lists a component in dependsOn by its children.
    assert.deepEqual([...child(CONNECTION, "directory-connection").options.dependsOn].sort(), [
      urnOf("guests-dev.someone@gmail.com"),
      urnOf("guests-partner@othercompany.com"),
      urnOf("temporary-owner-ownership"),
    ]);
  });

  it("registers the tenant it connected, which the next run's ledger reads back", async () => {
    const { self, mocks, component } = await directory();
    assert.equal(self.state.tenantId, TENANT);
    assert.deepEqual(
      Object.keys(self.state).filter((k) => !["tenantId", "verifiedAt"].includes(k)),
      [],
    );
    assert.equal(await new Promise((r) => component.tenantId.apply(r)), TENANT);
    assert.equal(ledgerOf(mocks.recordState()).connectedTenant, TENANT);
  });

  it("declares the same connection with the same options in a preview", async () => {
    const args = { preconditions: PRECONDITIONS };
    const update = await directory(args);
    const preview = await directory(args, { preview: true });
    assert.deepEqual(declarations(preview.children), declarations(update.children));
  });

  it("carries no credential, whatever the stack config and environment hold", async () => {
    const constructed = await directory({ role: "temporaryOwner" }, WITH_TOKENS);
    assert.equal(constructed.children.length, 1);
    assert.deepEqual(tokensCarried(constructed), []);
  });
});
