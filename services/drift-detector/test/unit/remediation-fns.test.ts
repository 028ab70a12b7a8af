import { describe, expect, it } from "vitest";
import type { ActiveFinding } from "../../src/findings/finding-types.js";
import { convergenceOf, lagOf } from "../../src/inventory/inventory-view-fns.js";
import { planRemediation } from "../../src/remediation/remediation-fns.js";

const now = 1_000_000;
const f = (over: Partial<ActiveFinding> = {}): ActiveFinding => ({
  id: "f",
  key: "k",
  kind: "stale",
  namespace: "shop",
  environment: "production",
  service: "api",
  instanceIds: ["i-1"],
  expected: { revision: 5, hash: null },
  actual: { revision: 4, hash: null },
  severity: "warning",
  summary: "s",
  status: "open",
  firstSeenAt: new Date(now),
  lastSeenAt: new Date(now),
  resolvingSince: null,
  resolution: null,
  remediationAttempts: 0,
  lastRemediationAt: null,
  escalatedAt: null,
  ...over,
});
const plan = (findings: ActiveFinding[], mode = "remediate" as const, head: number | null = 5) =>
  planRemediation(
    findings,
    () => mode,
    () => head ?? undefined,
    { maxAttempts: 3, retryMs: 1_000, now },
  );

describe("planRemediation", () => {
  it("resyncs stale and divergent instances towards the published head, only in remediate mode", () => {
    expect(plan([f(), f({ kind: "divergent" })]).map((s) => s.action)).toEqual(["resync", "resync"]);
    expect(plan([f({ kind: "rejected" })])).toEqual([]);
    expect(plan([f()], "report" as never)).toEqual([]);
    expect(plan([f()], "remediate", null)).toEqual([]);
    expect(plan([f()])[0]).toMatchObject({ targetRevision: 5, attempt: 1 });
  });

  it("waits between attempts, escalates after the last one, and never again after escalating", () => {
    expect(plan([f({ remediationAttempts: 1, lastRemediationAt: new Date(now - 500) })])).toEqual([]);
    expect(plan([f({ remediationAttempts: 1, lastRemediationAt: new Date(now - 1_000) })])[0]).toMatchObject({
      attempt: 2,
    });
    expect(plan([f({ remediationAttempts: 3, lastRemediationAt: new Date(now - 1_000) })])[0]).toMatchObject({
      action: "escalate",
    });
    expect(
      plan([f({ remediationAttempts: 3, escalatedAt: new Date(), lastRemediationAt: new Date(0) })]),
    ).toEqual([]);
  });
});

describe("inventory views", () => {
  const head = { revision: 7, hash: "h7", changedAt: new Date(now - 30_000) };
  it("lag in revisions and seconds", () => {
    expect(lagOf({ revision: 5, hash: "h5" }, head, now)).toEqual({ revisions: 2, seconds: 30 });
    expect(lagOf({ revision: 7, hash: "h7" }, head, now)).toEqual({ revisions: 0, seconds: 0 });
    expect(lagOf({ revision: null, hash: null }, head, now)).toEqual({ revisions: null, seconds: null });
  });
  it("convergence time only once nothing is older", () => {
    const published = new Date(now - 10_000);
    expect(
      convergenceOf({ published_at: published, older: 0, last_applied_at: new Date(now - 7_500) }),
    ).toEqual({
      converged: true,
      convergenceSeconds: 2.5,
    });
    expect(
      convergenceOf({ published_at: published, older: 1, last_applied_at: new Date(now) }).converged,
    ).toBe(false);
  });
});
