import pc from "picocolors";
import { describe, expect, it } from "vitest";
import type { ApiToken, AuditEntry, CreatedToken, Grant, WhoAmI } from "../../src/access-types.js";
import {
  auditTable,
  createdTokenNotice,
  grantInWords,
  grantLines,
  grantText,
  identityText,
  revokedTokenLine,
  tokenTable,
} from "../../src/output/access-views-fns.js";

const plain = pc.createColors(false);
const grant = (role: Grant["role"], ns = "*", env = "*"): Grant => ({
  role,
  namespaces: [ns],
  environments: [env],
});

const token: ApiToken = {
  id: "0123456789abcdef",
  name: "ci-deploy",
  owner: "alice",
  grants: [grant("editor", "payments-*", "staging"), grant("viewer")],
  createdAt: "2026-11-01T10:00:00.000Z",
  createdBy: "root",
  expiresAt: null,
  lastUsedAt: "2026-11-20T08:30:00.123Z",
  revokedAt: null,
  revokedBy: null,
  status: "active",
};

describe("grants", () => {
  it("are written as on the command line, shortest form", () => {
    expect(grantText(grant("admin"))).toBe("admin");
    expect(grantText(grant("viewer", "shop"))).toBe("viewer:shop");
    expect(grantText(grant("editor", "payments-*", "staging"))).toBe("editor:payments-*:staging");
    expect(grantText(grant("viewer", "*", "prod"))).toBe("viewer:*:prod");
  });

  it("say in plain words what they allow", () => {
    expect(grantInWords(grant("admin"))).toBe(
      "administer everything: tokens, the audit log, every namespace in every environment",
    );
    expect(grantInWords(grant("editor", "payments-*", "staging"))).toBe(
      "read and change namespaces matching payments-*, in staging only",
    );
    expect(grantInWords(grant("viewer", "shop"))).toBe("read namespace shop, in every environment");
    expect(grantInWords(grant("approver", "*", "prod?"))).toBe(
      "read and approve changes to every namespace, in environments matching prod? only",
    );
    expect(grantInWords(grant("secret-reader", "shop", "production"))).toBe(
      "read, secret values included, namespace shop, in production only",
    );
    expect(grantInWords(grant("admin", "shop"))).toBe(
      "do anything with namespace shop, in every environment",
    );
  });

  it("line up one per line, and say so when there are none", () => {
    expect(grantLines([grant("viewer"), grant("editor", "shop", "dev")])).toEqual([
      "  viewer           read every namespace, in every environment",
      "  editor:shop:dev  read and change namespace shop, in dev only",
    ]);
    expect(grantLines([])).toEqual(["  nothing yet: no grants"]);
  });
});

describe("identityText", () => {
  it("says who you are, how, that you author your changes, and what you may do", () => {
    const who: WhoAmI = {
      subject: "token:0123456789abcdef",
      name: "alice",
      kind: "token",
      grants: [grant("editor", "payments-*", "staging")],
    };
    expect(identityText(who, "http://r:1", plain)).toBe(
      [
        "You are alice at http://r:1, through API token 0123456789abcdef.",
        "Changes you make are recorded with alice as their author.",
        "You may:",
        "  editor:payments-*:staging  read and change namespaces matching payments-*, in staging only",
        "",
      ].join("\n"),
    );
  });

  it("names single sign-on for OIDC users", () => {
    const who: WhoAmI = { subject: "oidc:u-42", name: "Ann", kind: "oidc", grants: [] };
    const text = identityText(who, "http://r:1", plain);
    expect(text).toContain("through single sign-on (OIDC subject u-42)");
    expect(text).toContain("nothing yet: no grants");
  });
});

describe("tokens", () => {
  it("list as a table with grants, status, expiry and last use", () => {
    const revoked: ApiToken = {
      ...token,
      id: "fedcba9876543210",
      name: "old",
      owner: "bob",
      grants: [grant("admin")],
      expiresAt: "2027-01-01T00:00:00.000Z",
      lastUsedAt: null,
      revokedAt: "2026-11-21T00:00:00.000Z",
      revokedBy: "alice",
      status: "revoked",
    };
    const lines = tokenTable([token, revoked], plain).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+OWNER\s+GRANTS\s+STATUS\s+EXPIRES\s+LAST USED$/);
    expect(lines[1]).toMatch(
      /^0123456789abcdef\s+ci-deploy\s+alice\s+editor:payments-\*:staging, viewer\s+active\s+never\s+2026-11-20 08:30:00Z$/,
    );
    expect(lines[2]).toMatch(
      /^fedcba9876543210\s+old\s+bob\s+admin\s+revoked\s+2027-01-01 00:00:00Z\s+never$/,
    );
    expect(tokenTable([], plain)).toContain("nexus token create");
  });

  it("say once, plainly, that a new token is not shown again, without the token itself", () => {
    const created: CreatedToken = { ...token, token: "nxs_0123456789abcdef_secret" };
    const text = createdTokenNotice(created, plain);
    expect(text).toContain(
      "Created token ci-deploy (id 0123456789abcdef), owned by alice; it never expires.",
    );
    expect(text).toContain("read and change namespaces matching payments-*, in staging only");
    expect(text).toContain("This is the only time the token is shown");
    expect(text).not.toContain("nxs_");
    expect(createdTokenNotice({ ...created, expiresAt: "2026-12-01T00:00:00Z" }, plain)).toContain(
      "it expires 2026-12-01 00:00:00Z",
    );
  });

  it("say what a revocation did", () => {
    expect(revokedTokenLine(token, false)).toBe(
      "Revoked token 0123456789abcdef (ci-deploy, owned by alice). Every Nexus service refuses it from now on.\n",
    );
    const earlier = {
      ...token,
      revokedAt: "2026-11-21T00:00:00Z",
      revokedBy: "bob",
      status: "revoked" as const,
    };
    expect(revokedTokenLine(earlier, true)).toBe(
      "The token 0123456789abcdef (ci-deploy, owned by alice) was already revoked on 2026-11-21 00:00:00Z by bob; nothing changed.\n",
    );
  });
});

describe("auditTable", () => {
  it("shows who, what, the outcome and why a request was refused", () => {
    const entries: AuditEntry[] = [
      {
        seq: 7,
        at: "2026-11-21T10:00:00.000Z",
        actor: "token:0123456789abcdef",
        action: "PUT /v1/namespaces/:ns/layers/:layer",
        resource: "/v1/namespaces/shop/layers/production",
        outcome: "denied",
        statusCode: 403,
        details: { reason: "needs editor" },
      },
      {
        seq: 8,
        at: "2026-11-21T10:00:01.000Z",
        actor: "anonymous",
        action: "GET /v1/tokens",
        resource: "/v1/tokens",
        outcome: "denied",
        statusCode: 401,
        details: { reason: "no credentials" },
      },
    ];
    const lines = auditTable(entries, plain).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SEQ\s+TIME\s+ACTOR\s+OUTCOME\s+STATUS\s+ACTION\s+RESOURCE\s+REASON$/);
    expect(lines[1]).toMatch(
      /^7\s+2026-11-21 10:00:00Z\s+token:0123456789abcdef\s+denied\s+403\s+PUT \/v1\/namespaces\/:ns\/layers\/:layer\s+\/v1\/namespaces\/shop\/layers\/production\s+needs editor$/,
    );
    expect(lines[2]).toMatch(
      /^8\s+.*anonymous\s+denied\s+401\s+GET \/v1\/tokens\s+\/v1\/tokens\s+no credentials$/,
    );
    expect(auditTable([], plain)).toBe("No audit entries match.\n");
  });
});
