import { randomUUID } from "node:crypto";
import type { DriftFinding } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Harness, startMonitor } from "./harness.js";

const finding = (namespace: string, minutesAgo: number): DriftFinding => ({
  schemaVersion: 1,
  findingId: randomUUID(),
  kind: "stale",
  namespace,
  environment: "production",
  service: `${namespace}-svc`,
  instanceIds: ["i-1"],
  expected: { revision: 3, hash: null },
  actual: { revision: 2, hash: null },
  severity: "warning",
  firstSeenAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  lastSeenAt: new Date().toISOString(),
  summary: `1 instance of ${namespace} still runs revision 2`,
});

/** Drift findings from the detector's events, the rule on their age, and who may see the alerts. */
describe("monitor: alerts on drift findings open too long", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startMonitor();
    await h.call("PUT", "/v1/alert-rules", {
      rules: [{ name: "old-drift", kind: "drift_finding_open", olderThan: "10m", severity: "warning" }],
    });
  });
  afterAll(async () => h?.close());

  it("fires for findings older than the rule says, resolves when drift.resolved arrives, and shows each only to its viewers", async () => {
    const payOld = finding("pay-api", 30);
    const hrOld = finding("hr-api", 30);
    const payNew = finding("pay-api", 1);
    for (const f of [payOld, hrOld, payNew]) await h.nats.bus.publish("nexus.drift.detected", f);
    const firing = await eventually(
      async () => (await h.call("GET", "/v1/alerts")).body.items,
      (items) => items.length === 2,
    );
    expect(firing.map((a: { fingerprint: string }) => a.fingerprint).sort()).toEqual(
      [`monitor:old-drift:${hrOld.findingId}`, `monitor:old-drift:${payOld.findingId}`].sort(),
    );
    expect(firing[0]).toMatchObject({
      status: "firing",
      labels: { finding_kind: "stale", environment: "production" },
    });

    const viewer = await h.issuer.token(["viewer:pay-*:*"], { subject: "pat" });
    const mine = await h.call("GET", "/v1/alerts", undefined, { authorization: `Bearer ${viewer}` });
    expect(mine.body.items.map((a: { labels: { namespace: string } }) => a.labels.namespace)).toEqual([
      "pay-api",
    ]);
    const state = await h.call("GET", "/v1/dashboard/state", undefined, {
      authorization: `Bearer ${viewer}`,
    });
    expect(state.body.alerts.map((a: { labels: { namespace: string } }) => a.labels.namespace)).toEqual([
      "pay-api",
    ]);

    await h.nats.bus.publish("nexus.drift.resolved", {
      ...payOld,
      resolvedAt: new Date().toISOString(),
      resolution: "the instance caught up",
    });
    const after = await eventually(
      async () => (await h.call("GET", "/v1/alerts?status=firing,resolved")).body.items,
      (items) => items.some((a: { status: string }) => a.status === "resolved"),
    );
    expect(after.find((a: { status: string }) => a.status === "resolved")?.fingerprint).toBe(
      `monitor:old-drift:${payOld.findingId}`,
    );
  });

  it("keeps a finding closed when its drift.detected comes after its drift.resolved (found by the fault suite's monitor kills)", async () => {
    // A monitor killed while holding drift.detected unacked gets it back after the ack wait,
    // behind the drift.resolved published later.
    const late = finding("late-api", 30);
    await h.nats.bus.publish("nexus.drift.resolved", {
      ...late,
      resolvedAt: new Date().toISOString(),
      resolution: "the instance caught up",
    });
    // Applied first (on nats-server 2.9 each subject has its own durable, so publication order
    // alone does not say which is applied first).
    await eventually(
      async () =>
        (await h.db.pool.query("SELECT 1 FROM closed_findings WHERE finding_id = $1", [late.findingId])).rows,
      (rows) => rows.length === 1,
    );
    await h.nats.bus.publish("nexus.drift.detected", late);
    const marker = finding("marker-api", 30); // same subject, after it: once it fires, late was applied
    await h.nats.bus.publish("nexus.drift.detected", marker);
    const firing = await eventually(
      async () => (await h.call("GET", "/v1/alerts")).body.items as { fingerprint: string }[],
      (items) => items.some((a) => a.fingerprint === `monitor:old-drift:${marker.findingId}`),
    );
    expect(firing.map((a) => a.fingerprint)).not.toContain(`monitor:old-drift:${late.findingId}`);
    const open = await h.db.pool.query("SELECT 1 FROM open_findings WHERE finding_id = $1", [late.findingId]);
    expect(open.rows).toEqual([]);
  });
});
