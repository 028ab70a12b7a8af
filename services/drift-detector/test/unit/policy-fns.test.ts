import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assertRulesValid,
  checkRule,
  desiredPolicyFinding,
  evaluatePolicies,
  jsonEqual,
  parsePath,
  targetsToEvaluate,
  valueAt,
} from "../../src/policies/policy-fns.js";
import type { PolicyDto } from "../../src/policies/policy-types.js";

const doc = {
  database: { ssl: true, pool: 20, host: "db.internal" },
  log_level: "debug",
  servers: [{ port: 80 }],
};

describe("paths", () => {
  it("dotted paths with indexes and an optional $ root", () => {
    expect(parsePath("$.servers[0].port")).toEqual(["servers", 0, "port"]);
    expect(valueAt(doc, "servers[0].port")).toBe(80);
    expect(valueAt(doc, "database.ssl")).toBe(true);
    expect(typeof valueAt(doc, "database.nope")).toBe("symbol");
  });
});

describe("rules", () => {
  const c = (rule: Parameters<typeof checkRule>[0]) => checkRule(rule, doc);
  it("each operator passes and fails as documented", () => {
    expect(c({ op: "required", path: "database.host" })).toBeNull();
    expect(c({ op: "required", path: "database.user" })).toBe("database.user is required");
    expect(c({ op: "equals", path: "database.ssl", value: true })).toBeNull();
    expect(c({ op: "equals", path: "database.ssl", value: false })).toBe("database.ssl must equal false");
    expect(c({ op: "not-equals", path: "log_level", value: "debug" })).toBe('log_level must not be "debug"');
    expect(c({ op: "not-equals", path: "missing", value: "debug" })).toBeNull();
    expect(c({ op: "regex", path: "database.host", pattern: "\\.internal$" })).toBeNull();
    expect(c({ op: "regex", path: "database.pool", pattern: "x" })).toMatch(/must be a string/);
    expect(c({ op: "min", path: "database.pool", value: 30 })).toBe("database.pool must be at least 30");
    expect(c({ op: "max", path: "database.pool", value: 30 })).toBeNull();
    expect(c({ op: "max", path: "missing", value: 3 })).toMatch(/missing/);
    expect(c({ op: "forbidden", path: "log_level", values: ["debug", "trace"] })).toMatch(
      /must not be any of/,
    );
  });

  it("messages never quote the document's value", () => {
    const m = checkRule({ op: "equals", path: "secret", value: "expected" }, { secret: "hunter2" });
    expect(m).not.toContain("hunter2");
  });

  it("refuses a regex that does not compile, naming the field", () => {
    expect(() => assertRulesValid([{ op: "regex", path: "a", pattern: "(" }])).toThrow(
      expect.objectContaining({ statusCode: 422, field: "rules.0.pattern" }),
    );
  });

  it("jsonEqual ignores key order and is reflexive", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    fc.assert(fc.property(fc.jsonValue(), (v) => jsonEqual(v, JSON.parse(JSON.stringify(v)))));
  });
});

const policy = (over: Partial<PolicyDto>): PolicyDto => ({
  id: "0190a1b2-0000-7000-8000-000000000001",
  name: "prod-ssl",
  description: "",
  environment: "production",
  namespacePattern: "*",
  severity: "critical",
  rules: [
    { op: "equals", path: "database.ssl", value: true },
    { op: "not-equals", path: "log_level", value: "debug" },
  ],
  enabled: true,
  createdBy: "a",
  createdAt: "",
  updatedBy: "a",
  updatedAt: "",
  ...over,
});

describe("evaluatePolicies", () => {
  it("applies only enabled policies of the environment whose pattern matches", () => {
    const all = [
      policy({}),
      policy({ id: "0190a1b2-0000-7000-8000-000000000002", environment: "staging" }),
      policy({ id: "0190a1b2-0000-7000-8000-000000000003", namespacePattern: "pay-*" }),
      policy({ id: "0190a1b2-0000-7000-8000-000000000004", enabled: false }),
    ];
    const r = evaluatePolicies(all, "shop", "production", doc);
    expect(r.evaluated).toBe(1);
    expect(r.violations.map((v) => v.rule)).toEqual(["not-equals"]);
    const f = desiredPolicyFinding(
      { namespace: "shop", environment: "production", revision: 3, hash: "h" },
      r.violations,
    );
    expect(f).toMatchObject({ kind: "policy", severity: "critical", key: "policy:shop/production" });
    expect(desiredPolicyFinding({ namespace: "s", environment: "p", revision: 1, hash: "h" }, [])).toBeNull();
  });
});

describe("which targets of a batch are evaluated", () => {
  const c = (id: string, namespace: string, environment = "production") => ({
    id,
    data: { namespace, environment },
  });
  it("a target a policy applies to, or with an open policy finding; each once, with its last change", () => {
    const tls = policy({ environment: "production", namespacePattern: "pay*" });
    const batch = [
      c("1", "payments"),
      c("2", "other"),
      c("3", "payments"),
      c("4", "legacy"),
      c("5", "pay", "staging"),
    ];
    expect(targetsToEvaluate(batch, [tls], new Set(["legacy\u0000production"]))).toEqual([
      { namespace: "payments", environment: "production", eventId: "3" },
      { namespace: "legacy", environment: "production", eventId: "4" },
    ]);
    expect(targetsToEvaluate(batch, [{ ...tls, enabled: false }], new Set())).toEqual([]);
  });
});
