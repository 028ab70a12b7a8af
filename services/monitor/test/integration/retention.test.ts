import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Harness, startMonitor } from "./harness.js";

const HOUR = 3_600_000;

/** The lease holder's sweep: old history, instances silent for too long, old resolved alerts. */
describe("monitor: retention", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startMonitor({ retentionMs: 2 * HOUR, forgetInstanceMs: HOUR, sweepIntervalMs: 200 });
  });
  afterAll(async () => h?.close());

  const count = async (sql: string) => (await h.db.pool.query<{ n: number }>(sql)).rows[0]?.n;

  it("deletes what is older than the retention and keeps the rest", async () => {
    const now = Date.now();
    const hb = (instanceId: string) =>
      JSON.stringify({
        schemaVersion: 1,
        service: "notifier",
        instanceId,
        version: "0.1.0",
        startedAt: new Date(now - 5 * HOUR).toISOString(),
        sentAt: new Date(now - 3 * HOUR).toISOString(),
        uptimeSeconds: 7200,
        status: "ready",
        dependencies: [],
        gauges: {
          outboxBacklog: 0,
          consumerPending: 0,
          consumerAckPending: 0,
          consumerRedelivered: 0,
          deadLetters: 0,
        },
        intervalSeconds: 5,
      });
    await h.db.pool.query(
      `INSERT INTO service_instances (service, instance_id, last_seen_at, heartbeat) VALUES
         ('notifier', 'old', $1, $3), ('notifier', 'recent', $2, $4)`,
      [new Date(now - 3 * HOUR), new Date(now - 10 * 60_000), hb("old"), hb("recent")],
    );
    await h.db.pool.query(
      `INSERT INTO health_samples (service, instance_id, bucket, status, beats, consumer_pending, consumer_redelivered, dead_letters)
       VALUES ('notifier', 'old', $1, 'up', 12, 0, 0, 0), ('notifier', 'recent', $2, 'up', 12, 0, 0, 0)`,
      [new Date(now - 3 * HOUR), new Date(now - HOUR)],
    );
    await h.db.pool.query(
      `INSERT INTO monitor_alerts (fingerprint, rule, status, severity, summary, labels, active_since, fired_at, resolved_at)
       VALUES ('monitor:x:old', 'x', 'resolved', 'error', 's', '{}', $1, $1, $1),
              ('monitor:x:new', 'x', 'resolved', 'error', 's', '{}', $2, $2, $2)`,
      [new Date(now - 3 * HOUR), new Date(now - 60_000)],
    );
    await eventually(
      () => count("SELECT count(*)::int AS n FROM health_samples"),
      (n) => n === 1,
    );
    await eventually(
      () => count("SELECT count(*)::int AS n FROM service_instances"),
      (n) => n === 1,
    );
    const kept = await h.db.pool.query("SELECT instance_id FROM health_samples");
    expect(kept.rows).toEqual([{ instance_id: "recent" }]);
    expect((await h.db.pool.query("SELECT instance_id FROM service_instances")).rows).toEqual([
      { instance_id: "recent" },
    ]);
    // Only this test's alerts: default rules (a backup never verified is overdue) may fire meanwhile.
    await eventually(
      () => count("SELECT count(*)::int AS n FROM monitor_alerts WHERE rule = 'x'"),
      (n) => n === 1,
    );
    expect((await h.db.pool.query("SELECT fingerprint FROM monitor_alerts WHERE rule = 'x'")).rows).toEqual([
      { fingerprint: "monitor:x:new" },
    ]);
  });
});
