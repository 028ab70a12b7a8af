import { createTestBus, createTestDatabase, type TestBus, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INTAKE_TOKEN, NOTIFIER_MIGRATIONS, NOTIFIER_SCHEMA } from "./harness.js";
import { type NotifierProcess, startNotifierProcess } from "./notifier-process.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

/**
 * The delivery promise on the real process: a notifier killed after it sent a PagerDuty event and
 * before it recorded the answer neither loses the delivery nor sends it more than at least once,
 * and every copy carries the same dedup key, so PagerDuty keeps one incident.
 */
describe("crash between sending and recording a delivery", () => {
  let db: TestDatabase;
  let nats: TestBus;
  let pd: ScriptedReceiver;
  let proc: NotifierProcess | undefined;

  const env = () => ({
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: NOTIFIER_SCHEMA,
    NATS_PREFIX: nats.prefix,
    CONSUME_EVENTS: "false",
    ALERTMANAGER_INTAKE_TOKEN: INTAKE_TOKEN,
    OUTBOUND_ALLOW_HTTP: "true",
    OUTBOUND_ALLOW_ADDRESSES: "127.0.0.1",
    OUTBOUND_TIMEOUT_MS: "30000",
    DELIVERY_LEASE_MS: "1000",
    WORKER_POLL_MS: "100",
  });

  beforeAll(async () => {
    [db, nats, pd] = await Promise.all([
      createTestDatabase({ schema: NOTIFIER_SCHEMA, migrationsDir: NOTIFIER_MIGRATIONS }),
      createTestBus(),
      startReceiver({ status: 202, body: '{"status":"success"}' }),
    ]);
    // The routing config as the API would have stored it (version 1).
    const config = {
      route: { receiver: "pd", groupWaitMs: 0 },
      receivers: [
        {
          name: "pd",
          type: "pagerduty",
          routingKey: "CRASHKEY",
          url: `${pd.url}/v2/enqueue`,
          sendResolved: true,
        },
      ],
      inhibitRules: [],
    };
    await db.pool.query("INSERT INTO routing_versions (version, config, author) VALUES (1, $1, 'test')", [
      JSON.stringify(config),
    ]);
  });
  afterAll(async () => {
    await proc?.stop();
    await pd.close();
    await Promise.allSettled([db?.drop(), nats?.cleanup()]);
  });

  it("sends again after a restart with the same dedup key, and records one delivered delivery", async () => {
    // The first answer never comes before the kill: the process has sent but not recorded.
    pd.script.push({ status: 202, delayMs: 60_000 });
    proc = await startNotifierProcess(env());
    const intake = await fetch(`${proc.url}/v1/intake/alertmanager`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${INTAKE_TOKEN}` },
      body: JSON.stringify({
        version: "4",
        groupKey: "g",
        status: "firing",
        receiver: "nexus",
        alerts: [
          {
            status: "firing",
            labels: { alertname: "DiskFull", severity: "critical" },
            annotations: { summary: "disk full" },
            startsAt: "2026-01-01T00:00:00Z",
            fingerprint: "d15cf011",
          },
        ],
      }),
    });
    expect(intake.status).toBe(202);
    await pd.waitFor(1);
    const claimed = await db.pool.query("SELECT status, attempts FROM deliveries");
    expect(claimed.rows).toEqual([{ status: "sending", attempts: 1 }]);
    await proc.kill();

    proc = await startNotifierProcess(env());
    const [first, second] = await pd.waitFor(2, 15_000);
    expect(second!.body).toEqual(first!.body);
    expect(second!.body).toMatchObject({
      event_action: "trigger",
      dedup_key: "alertmanager:d15cf011",
      routing_key: "CRASHKEY",
    });
    const deadline = Date.now() + 10_000;
    let rows: { status: string; attempts: number }[] = [];
    while (Date.now() < deadline) {
      rows = (await db.pool.query("SELECT status, attempts FROM deliveries")).rows;
      if (rows[0]?.status === "delivered") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toEqual([{ status: "delivered", attempts: 2 }]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(pd.requests).toHaveLength(2);
  });
});
