import { ALERT_RAISED, ALERT_RESOLVED } from "@nexus/contracts";
import type { Consumption } from "@nexus/kit";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFIER_MIGRATIONS, NOTIFIER_SCHEMA } from "../../../notifier/test/integration/harness.js";
import {
  type NotifierProcess,
  startNotifierProcess,
} from "../../../notifier/test/integration/notifier-process.js";
import { eventually, type Harness, startMonitor } from "./harness.js";

const INTERVAL_S = 0.5;
const EVALUATE_MS = 100;

/**
 * The real notifier process (src/main.ts) beats; killed, the monitor raises alert.raised within
 * heartbeat interval × 3; started again, alert.resolved; stopped cleanly, it says goodbye.
 */
describe("monitor: a real service process stopping and starting", () => {
  let h: Harness;
  let db: TestDatabase;
  let proc: NotifierProcess | undefined;
  let watch: Consumption;
  const seen: Array<{ type: string; fingerprint: string; at: number }> = [];

  const start = () =>
    startNotifierProcess({
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: NOTIFIER_SCHEMA,
      NATS_PREFIX: h.nats.prefix,
      CONSUME_EVENTS: "false",
      HEARTBEAT_INTERVAL_SECONDS: String(INTERVAL_S),
      INSTANCE_ID: "notifier-e2e",
    });
  const health = async () =>
    (await h.call("GET", "/v1/services")).body.services.find(
      (s: { service: string }) => s.service === "notifier",
    );

  beforeAll(async () => {
    [h, db] = await Promise.all([
      startMonitor({ expectedServices: ["notifier"], evaluateIntervalMs: EVALUATE_MS }),
      createTestDatabase({ schema: NOTIFIER_SCHEMA, migrationsDir: NOTIFIER_MIGRATIONS }),
    ]);
    watch = await h.nats.bus.consume(
      [ALERT_RAISED, ALERT_RESOLVED],
      { durable: "test-process-watch" },
      (e) => {
        seen.push({ type: e.type, fingerprint: e.data.fingerprint, at: Date.now() });
      },
    );
    await h.call("PUT", "/v1/alert-rules", {
      rules: [{ name: "notifier-down", kind: "service_down", severity: "critical", services: ["notifier"] }],
    });
  }, 60_000);
  afterAll(async () => {
    await proc?.kill();
    await watch?.stop();
    await h?.close();
    await db?.drop();
  });

  it("reports it, alerts when it is killed, resolves when it is back, and hears its goodbye", async () => {
    proc = await start();
    const up = await eventually(health, (s) => s?.health === "up", 15_000);
    expect(up.instances[0]).toMatchObject({ instanceId: "notifier-e2e", version: "0.1.0", health: "up" });
    expect(up.instances[0].dependencies.map((d: { name: string }) => d.name)).toEqual([
      "postgres",
      "nats",
      "jetstream",
    ]);

    const killedAt = Date.now();
    await proc.kill();
    await eventually(
      async () => seen.filter((s) => s.type === ALERT_RAISED),
      (r) => r.length === 1,
      10_000,
    );
    const raised = seen.find((s) => s.type === ALERT_RAISED);
    expect(raised?.fingerprint).toBe("monitor:notifier-down:notifier");
    expect((raised?.at ?? 0) - killedAt).toBeLessThanOrEqual(INTERVAL_S * 3 * 1_000 + EVALUATE_MS + 700);

    proc = await start();
    // At least one: on a machine loaded enough to delay a fresh process's heartbeats past
    // MISSED_HEARTBEATS intervals, the instance really is missing again for a moment.
    await eventually(
      async () => seen.filter((s) => s.type === ALERT_RESOLVED),
      (r) => r.length >= 1,
      10_000,
    );
    expect(seen.filter((s) => s.type === ALERT_RESOLVED)[0]?.fingerprint).toBe(
      "monitor:notifier-down:notifier",
    );

    // SIGTERM: the shutdown sends a last heartbeat, so the instance is `stopped` (without it, it
    // would turn `missing` and stay so).
    await proc.stop();
    proc = undefined;
    const after = await eventually(health, (s) => s?.instances[0]?.health === "stopped", 5_000);
    expect(after.reason).toBe("every instance stopped");
  }, 120_000);
});
