import { describe, expect, it } from "vitest";
import { evaluateRules, type Snapshot, trafficOver } from "../../src/alerts/alert-fns.js";
import { summarize } from "../../src/health/health-fns.js";
import type { TrafficSample } from "../../src/health/health-model.js";
import { createHealthModel } from "../../src/health/health-model.js";
import { defaultRules } from "../../src/rules/rule-fns.js";
import { AlertRule } from "../../src/rules/rule-types.js";
import { heartbeat, NOW } from "./heartbeat-fixture.js";

const rule = (r: unknown) => AlertRule.parse(r);
const records = ["a-1", "a-2"].map((instanceId) => ({
  service: "notifier",
  instanceId,
  lastSeenAt: NOW,
  heartbeat: heartbeat({ instanceId }),
}));
const sample = (
  instanceId: string,
  agoMs: number,
  requests: number,
  errors5xx: number,
  p99Ms: number | null,
) =>
  ({ service: "notifier", instanceId, at: NOW - agoMs, requests, errors5xx, p99Ms }) satisfies TrafficSample;

const snapshot = (
  traffic: TrafficSample[],
  certificates: Snapshot["certificates"] = new Map(),
): Snapshot => ({
  health: summarize(records, NOW, { missedHeartbeats: 3, expectedServices: [], judgeAbsentAfter: 0 }),
  findings: [],
  backups: [],
  pipelines: [],
  tokens: null,
  traffic,
  certificates,
  now: NOW,
});

describe("SLO rules", () => {
  const errorRate = rule({ name: "errors", kind: "slo_error_rate", threshold: 0.05, window: "5m" });
  const latency = rule({ name: "slow", kind: "slo_latency", threshold: 1_000, window: "5m" });

  it("sum a service's traffic over its instances within the window only", () => {
    const t = trafficOver(
      [
        sample("a-1", 10_000, 100, 3, 50),
        sample("a-2", 20_000, 50, 4, 250),
        sample("a-1", 400_000, 900, 900, 5_000),
      ],
      "notifier",
      NOW - 300_000,
    );
    expect(t).toEqual({ requests: 150, errors5xx: 7, p99Ms: 250 });
  });

  it("fire on a 5xx share above the threshold, per service, and not at or below it", () => {
    const over = evaluateRules(
      [errorRate],
      snapshot([sample("a-1", 5_000, 60, 4, 10), sample("a-2", 5_000, 40, 2, 10)]),
    );
    expect(over).toHaveLength(1);
    expect(over[0]).toMatchObject({
      fingerprint: "monitor:errors:notifier",
      labels: { service: "notifier" },
    });
    expect(over[0]?.summary).toContain("6 %");
    expect(evaluateRules([errorRate], snapshot([sample("a-1", 5_000, 100, 5, 10)]))).toEqual([]);
  });

  it("forget errors older than the window", () => {
    expect(evaluateRules([errorRate], snapshot([sample("a-1", 301_000, 100, 100, 10)]))).toEqual([]);
  });

  it("judge nothing below minRequests", () => {
    expect(evaluateRules([errorRate], snapshot([sample("a-1", 5_000, 19, 19, 10)]))).toEqual([]);
    const few = rule({ ...errorRate, name: "few", minRequests: 1 });
    expect(evaluateRules([few], snapshot([sample("a-1", 5_000, 2, 1, 10)]))).toHaveLength(1);
  });

  it("fire on the worst interval's p99 above the threshold", () => {
    const slow = snapshot([sample("a-1", 5_000, 50, 0, 100), sample("a-2", 60_000, 50, 0, 2_500)]);
    const fired = evaluateRules([latency], slow);
    expect(fired.map((c) => c.fingerprint)).toEqual(["monitor:slow:notifier"]);
    expect(fired[0]?.summary).toContain("2500 ms");
    expect(evaluateRules([latency], snapshot([sample("a-1", 5_000, 50, 0, 1_000)]))).toEqual([]);
  });

  it("refuse a window longer than the hour of traffic kept, and a ratio above 1", () => {
    expect(AlertRule.safeParse({ ...errorRate, window: "2h" }).success).toBe(false);
    expect(AlertRule.safeParse({ ...errorRate, threshold: 5 }).success).toBe(false);
  });

  it("are in the default set", () => {
    const kinds = defaultRules().map((r) => r.kind);
    expect(kinds).toContain("slo_error_rate");
    expect(kinds).toContain("slo_latency");
  });
});

describe("certificate_expiring", () => {
  const certRule = rule({
    name: "certs",
    kind: "certificate_expiring",
    endpoints: ["nats.internal:4222", "pg:5432"],
  });
  const cert = (endpoint: string, inMs: number) => ({
    endpoint,
    validTo: new Date(NOW + inMs),
    subject: endpoint,
    issuer: "Nexus CA",
  });

  it("fire for a certificate expiring within the window or expired, per endpoint", () => {
    const certs = new Map([
      ["nats.internal:4222", cert("nats.internal:4222", 3 * 86_400_000)],
      ["pg:5432", cert("pg:5432", -60_000)],
    ]);
    const fired = evaluateRules([certRule], snapshot([], certs));
    expect(fired.map((c) => c.fingerprint)).toEqual([
      "monitor:certs:nats.internal:4222",
      "monitor:certs:pg:5432",
    ]);
    expect(fired[0]?.summary).toContain("expires in 3 days");
    expect(fired[1]?.summary).toContain("has expired");
  });

  it("stay quiet for a distant expiry and for an endpoint never read", () => {
    const certs = new Map([["nats.internal:4222", cert("nats.internal:4222", 30 * 86_400_000)]]);
    expect(evaluateRules([certRule], snapshot([], certs))).toEqual([]);
  });

  it("refuse an endpoint without a port", () => {
    const r = AlertRule.safeParse({ name: "c", kind: "certificate_expiring", endpoints: ["nats.internal"] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["endpoints", 0]);
  });
});

describe("the model's traffic", () => {
  it("keeps each instance's samples as long as the longest window asks, and accepts a heartbeat without http", () => {
    const model = createHealthModel();
    const beat = (at: number, requests: number) =>
      model.ingest(
        ["notifier", "a-1"],
        heartbeat({ sentAt: new Date(at).toISOString(), http: { requests, errors5xx: 0, p99Ms: 5 } }),
        at,
      );
    expect(model.ingest(["notifier", "a-2"], heartbeat({ instanceId: "a-2" }), NOW).ok).toBe(true);
    beat(NOW - 120_000, 1);
    beat(NOW - 30_000, 2);
    beat(NOW, 3);
    expect(model.traffic(NOW, 300_000).map((t) => t.requests)).toEqual([1, 2, 3]);
    expect(model.traffic(NOW, 60_000).map((t) => t.requests)).toEqual([2, 3]);
    // The shorter window dropped the oldest sample for good.
    expect(model.traffic(NOW, 300_000).map((t) => t.requests)).toEqual([2, 3]);
  });
});
