import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, revealForThisProcess } from "../config/load";
import { ConfigError, RawConfig, parseConfig, parseOrganization } from "../config/schema";

const TENANT = "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B";
const base: RawConfig = { organization: "fabrikam", tenantId: TENANT };

/** The problems a bad config produces (the test fails if it is accepted). */
function problems(raw: RawConfig): string[] {
  try {
    parseConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    return [...err.problems];
  }
  assert.fail("the configuration was accepted");
}

describe("stack configuration", () => {
  it("applies the documented defaults", () => {
    const c = parseConfig(base);
    assert.deepEqual(c.organization, { name: "fabrikam", url: "https://dev.azure.com/fabrikam" });
    assert.equal(c.tenantId, TENANT.toLowerCase());
    assert.equal(c.phase, "prepare");
    assert.deepEqual(c.invitation, {
      redirectUrl: "https://dev.azure.com/fabrikam",
      sendEmail: true,
      userType: "Guest",
    });
    assert.equal(c.identityChanges.size, 0);
    assert.equal(c.acceptHistoricUsers.size, 0);
    assert.equal(c.excludeUsers.size, 0);
  });

  it("accepts the organization as a name, a dev.azure.com URL or a legacy visualstudio.com URL", () => {
    assert.equal(parseOrganization("fabrikam"), "fabrikam");
    assert.equal(
      parseOrganization(" https://dev.azure.com/Fabrikam-2/ "),
      "fabrikam-2",
      "one spelling",
    );
    assert.equal(parseOrganization("FABRIKAM"), "fabrikam");
    assert.equal(parseOrganization("https://user:pat@dev.azure.com/fabrikam"), undefined);
    assert.equal(parseOrganization("https://fabrikam.visualstudio.com"), "fabrikam");
    assert.equal(parseOrganization("https://fabrikam.visualstudio.com/"), "fabrikam");
    for (const bad of [
      "http://dev.azure.com/fabrikam",
      "https://dev.azure.com/fabrikam/project",
      "https://example.com/fabrikam",
      "-fabrikam",
      "fab rikam",
      "",
    ]) {
      assert.equal(parseOrganization(bad), undefined, bad);
    }
  });

  it("normalizes user lists and identity changes to lower case", () => {
    const c = parseConfig({
      ...base,
      organization: "https://fabrikam.visualstudio.com",
      phase: "connect",
      invitation: {
        redirectUrl: "https://myapps.microsoft.com",
        userType: "Member",
        message: " Welcome ",
      },
      identityChanges: { "Jamal@Outlook.com ": "Jamal@Fabrikam.com" },
      acceptHistoricUsers: [" Old@Fabrikam.com"],
      excludeUsers: ["LEAVER@othercompany.com"],
    });
    assert.equal(c.organization.url, "https://dev.azure.com/fabrikam");
    assert.equal(c.phase, "connect");
    assert.deepEqual(c.invitation, {
      redirectUrl: "https://myapps.microsoft.com",
      sendEmail: true,
      message: "Welcome",
      userType: "Member",
    });
    assert.deepEqual([...c.identityChanges], [["jamal@outlook.com", "jamal@fabrikam.com"]]);
    assert.deepEqual([...c.acceptHistoricUsers], ["old@fabrikam.com"]);
    assert.deepEqual([...c.excludeUsers], ["leaver@othercompany.com"]);
  });

  const cases: [string, RawConfig, RegExp][] = [
    [
      "organization missing",
      { tenantId: TENANT },
      /devops-entra-connect:organization is required: run `pulumi config set organization/,
    ],
    [
      "organization not a name or URL",
      { ...base, organization: "https://example.com/x" },
      /devops-entra-connect:organization is not an organization name or URL/,
    ],
    ["tenantId missing", { organization: "fabrikam" }, /devops-entra-connect:tenantId is required/],
    [
      "tenantId a domain",
      { ...base, tenantId: "fabrikam.onmicrosoft.com" },
      /devops-entra-connect:tenantId is not a tenant GUID/,
    ],
    [
      "tenantId all zeros",
      { ...base, tenantId: "00000000-0000-0000-0000-000000000000" },
      /tenantId is not a tenant GUID/,
    ],
    [
      "phase unknown",
      { ...base, phase: "go" },
      /devops-entra-connect:phase must be one of prepare, connect, resolve, cleanup/,
    ],
    [
      "invitation not an object",
      { ...base, invitation: "yes" },
      /devops-entra-connect:invitation must be an object/,
    ],
    [
      "invitation unknown field",
      { ...base, invitation: { redirect: "x" } },
      /invitation has unknown field\(s\) redirect; allowed: redirectUrl/,
    ],
    [
      "invitation redirect not a URL",
      { ...base, invitation: { redirectUrl: "dev.azure.com" } },
      /invitation.redirectUrl must be an http\(s\) URL/,
    ],
    [
      "invitation userType",
      { ...base, invitation: { userType: "guest" } },
      /invitation.userType must be "Guest" or "Member"/,
    ],
    [
      "invitation sendEmail",
      { ...base, invitation: { sendEmail: "no" } },
      /invitation.sendEmail must be true or false/,
    ],
    [
      "invitation empty message",
      { ...base, invitation: { message: "  " } },
      /invitation.message is empty/,
    ],
    [
      "message without email",
      { ...base, invitation: { sendEmail: false, message: "hi" } },
      /message is set but sendEmail is false/,
    ],
    [
      "identityChanges not a map",
      { ...base, identityChanges: ["a@b.com"] },
      /devops-entra-connect:identityChanges must map an organization user/,
    ],
    [
      "identityChanges bad address",
      { ...base, identityChanges: { jamal: "jamal@fabrikam.com" } },
      /identityChanges entry 1 must map one email to another/,
    ],
    [
      "identityChanges to itself",
      { ...base, identityChanges: { "a@b.com": "A@B.com" } },
      /entry 1 maps a@b\.com to itself/,
    ],
    [
      "identityChanges twice",
      { ...base, identityChanges: { "a@b.com": "x@b.com", "A@b.com": "y@b.com" } },
      /entry 2 lists a@b\.com a second time/,
    ],
    [
      "identityChanges sending two users to one identity",
      { ...base, identityChanges: { "a@b.com": "x@b.com", "c@b.com": "X@b.com" } },
      /entry 2 sends c@b\.com to x@b\.com, which a@b\.com already gets; one identity can back one user/,
    ],
    [
      "identityChanges chaining",
      { ...base, identityChanges: { "a@b.com": "b@b.com", "b@b.com": "c@b.com" } },
      /chains a@b\.com → b@b\.com → c@b\.com/,
    ],
    [
      "organization URL with credentials",
      { ...base, organization: "https://user:s3cr3t-pat@dev.azure.com/fabrikam" },
      /organization is a URL with credentials in it; .*revoke the exposed token/,
    ],
    [
      "excludeUsers not a list",
      { ...base, excludeUsers: "a@b.com" },
      /devops-entra-connect:excludeUsers must be a list of user emails/,
    ],
    [
      "acceptHistoricUsers bad entry",
      { ...base, acceptHistoricUsers: ["ok@b.com", "nope"] },
      /devops-entra-connect:acceptHistoricUsers\[1\] is not an email/,
    ],
    [
      "user both excluded and accepted",
      { ...base, excludeUsers: ["a@b.com"], acceptHistoricUsers: ["A@b.com"] },
      /"a@b.com" is in both devops-entra-connect:excludeUsers and devops-entra-connect:acceptHistoricUsers/,
    ],
    [
      "user both excluded and changing identity",
      { ...base, excludeUsers: ["a@b.com"], identityChanges: { "a@b.com": "c@b.com" } },
      /in both devops-entra-connect:excludeUsers and devops-entra-connect:identityChanges/,
    ],
  ];
  for (const [title, raw, expected] of cases) {
    it(`rejects: ${title}`, () => {
      const found = problems(raw);
      assert.ok(
        found.some((p) => expected.test(p)),
        `expected a problem matching ${expected}, got:\n${found.join("\n")}`,
      );
    });
  }

  it("never echoes a value that could be a secret pasted in the wrong key", () => {
    const token = "pat-0123456789abcdefghijklmnopqrstuvwxyz";
    const found = [
      ...problems({
        organization: `https://${token}@dev.azure.com/x`,
        tenantId: token,
        excludeUsers: [token],
        acceptHistoricUsers: [token],
      }),
      ...problems({
        organization: "fabrikam",
        tenantId: TENANT,
        identityChanges: { [token]: "x@b.com", "a@b.com": token },
      }),
    ];
    assert.equal(found.length, 6, found.join("\n"));
    for (const p of found) assert.ok(!p.includes(token), p);
  });

  it("reports every problem in one error", () => {
    try {
      parseConfig({
        organization: "https://example.com/x",
        tenantId: "nope",
        excludeUsers: ["a@b.com"],
        acceptHistoricUsers: ["a@b.com"],
      });
      assert.fail("accepted");
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 3);
      assert.match(
        err.message,
        /^Invalid stack configuration \(3 problems\); nothing was changed:/,
      );
    }
  });

  it("lists value problems together with schema problems", () => {
    const found = problems({ organization: "fabrikam", tenantId: "fabrikam.com", phase: "bogus" });
    assert.equal(found.length, 2, found.join("\n"));
    assert.match(found.join("\n"), /phase must be one of/);
    assert.match(found.join("\n"), /tenantId is not a tenant GUID/);
  });

  describe("reading the stack", () => {
    afterEach(() => pulumi.runtime.setAllConfig({}, []));

    it("reads structured keys and keeps devopsToken a secret", async () => {
      pulumi.runtime.setAllConfig(
        {
          "devops-entra-connect:organization": "fabrikam",
          "devops-entra-connect:tenantId": TENANT,
          "devops-entra-connect:invitation": JSON.stringify({ userType: "Member" }),
          "devops-entra-connect:excludeUsers": JSON.stringify(["x@y.com"]),
          "devops-entra-connect:devopsToken": "pat-value-for-test",
        },
        ["devops-entra-connect:devopsToken"],
      );
      const loaded = loadConfig();
      assert.equal(loaded.config.invitation.userType, "Member");
      assert.deepEqual([...loaded.config.excludeUsers], ["x@y.com"]);
      assert.ok(loaded.devopsToken);
      assert.equal(await pulumi.isSecret(loaded.devopsToken), true);
      assert.equal(await revealForThisProcess(loaded.devopsToken), "pat-value-for-test");
      assert.doesNotMatch(JSON.stringify(loaded.config), /pat-value-for-test/);
    });

    it("refuses a devopsToken stored in plaintext, and invalid structured values", () => {
      pulumi.runtime.setAllConfig(
        {
          "devops-entra-connect:organization": "fabrikam",
          "devops-entra-connect:tenantId": TENANT,
          "devops-entra-connect:identityChanges": "{not json",
          "devops-entra-connect:devopsToken": "plain",
        },
        [],
      );
      assert.throws(
        () => loadConfig(),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.problems.some((p) =>
            /devopsToken is stored in plaintext: revoke that token, remove the key \(`pulumi config rm devopsToken`\) and pass the new one as AZDO_PERSONAL_ACCESS_TOKEN/.test(
              p,
            ),
          ) &&
          err.problems.some((p) => /devops-entra-connect:identityChanges is not valid/.test(p)),
      );
    });

    it("has no token when none is configured", () => {
      pulumi.runtime.setAllConfig(
        {
          "devops-entra-connect:organization": "fabrikam",
          "devops-entra-connect:tenantId": TENANT,
        },
        [],
      );
      assert.equal(loadConfig().devopsToken, undefined);
    });
  });
});
