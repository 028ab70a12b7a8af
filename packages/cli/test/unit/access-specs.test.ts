/**
 * The access bodies (src/access-types.ts): each spec equal to its contract both ways
 * (spec-schema.ts says what that means), and a sample the schema parses passes the spec. The
 * second part checks that the registry documents exactly these schemas for its token routes, and
 * every service for the kit's audit route (the CLI asks the registry's; all serve the same).
 */
import {
  AuditEntryDto,
  AuditPageDto,
  CreatedTokenDto,
  GrantDto,
  TokenDto,
  TokenListDto,
  WhoAmIDto,
} from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import {
  ApiTokenSpec,
  AuditEntrySpec,
  AuditPageSpec,
  CreatedTokenSpec,
  GrantSpec,
  TokenListSpec,
  WhoAmISpec,
} from "../../src/access-types.js";
import { mismatch } from "../../src/shape-fns.js";
import {
  type DocumentedAnswer,
  disagreements,
  itDocuments,
  itKeepsEachSpecEqual,
  type SpecPair,
} from "./spec-schema.js";

const at = "2026-12-07T09:00:00.000Z";
const grant = { role: "editor", namespaces: ["shop-*"], environments: ["*"] };
const token = {
  id: "0123456789abcdef",
  name: "ci-deploy",
  owner: "ed",
  grants: [grant],
  createdAt: at,
  createdBy: "token:fedcba9876543210",
  expiresAt: null,
  lastUsedAt: at,
  revokedAt: null,
  revokedBy: null,
  status: "active",
};
const entry = {
  seq: 7,
  at,
  actor: "token:0123456789abcdef",
  action: "PUT /v1/namespaces/:ns/layers/:layer",
  resource: "/v1/namespaces/shop/layers/base",
  outcome: "denied",
  statusCode: 403,
  requestId: "r-1",
  ip: "10.0.0.1",
  userAgent: "nexus-cli",
  details: { reason: "missing role" },
};

const pairs: SpecPair[] = [
  ["GrantDto", GrantDto, GrantSpec, grant],
  ["WhoAmIDto", WhoAmIDto, WhoAmISpec, { subject: "oidc:ann", name: "Ann", kind: "oidc", grants: [grant] }],
  ["TokenDto", TokenDto, ApiTokenSpec, token],
  ["CreatedTokenDto", CreatedTokenDto, CreatedTokenSpec, { ...token, token: "nxs_0123456789abcdef_x" }],
  ["TokenListDto", TokenListDto, TokenListSpec, { tokens: [token, { ...token, status: "revoked" }] }],
  ["AuditEntryDto", AuditEntryDto, AuditEntrySpec, entry],
  [
    "AuditPageDto",
    AuditPageDto,
    AuditPageSpec,
    {
      entries: [entry, { seq: 8, at, actor: "anonymous", action: "GET", resource: "/", outcome: "allowed" }],
      next: 8,
    },
  ],
];

describe("the CLI's access specs and @nexus/contracts", () => {
  itKeepsEachSpecEqual(pairs);

  it("notices an audit entry's optional field of the wrong kind", () => {
    expect(disagreements({ ...AuditEntrySpec, "statusCode?": "string" }, AuditEntryDto, [])).toEqual([
      "statusCode: spec string, schema number",
    ]);
    expect(mismatch({ ...entry, details: "no" }, AuditEntrySpec)).toBe(
      "details: expected object, got string",
    );
  });
});

const registry: DocumentedAnswer[] = [
  ["/v1/whoami", "get", "200", WhoAmIDto],
  ["/v1/tokens", "post", "201", CreatedTokenDto],
  ["/v1/tokens", "get", "200", TokenListDto],
  ["/v1/tokens/{id}", "get", "200", TokenDto],
  ["/v1/tokens/{id}", "delete", "200", TokenDto],
];
const services = ["config-registry", "drift-detector", "orchestrator", "notifier", "monitor", "backup"];

describe("the services' OpenAPI documents", () => {
  itDocuments("config-registry", registry);
  for (const service of services) itDocuments(service, [["/v1/audit", "get", "200", AuditPageDto]]);
});
