import { createTestBus, createTestDatabase, type TestBus, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  INTAKE_TOKEN,
  NOTIFIER_MIGRATIONS,
  NOTIFIER_SCHEMA,
  raised,
  TEST_SECRETS_KEY,
} from "../../services/notifier/test/integration/harness.js";
import { type ScriptedReceiver, startReceiver } from "../../services/notifier/test/integration/receivers.js";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";
import { recordFigure } from "./figures.js";

/**
 * The notifier process killed with SIGKILL at random moments while alerts stream in and are
 * delivered to a real local webhook receiver. Every publish is recorded (invoke, then ok or fail
 * when JetStream answers); after the last restart the history is checked offline against what
 * the receiver got: no acknowledged alert without a notification, no alert notified under two
 * delivery ids (a duplicate the receiver cannot recognise). Copies under the same id (sent, then
 * killed before recording the answer) are the documented at-least-once and are counted.
 * FAULTS_LONG=1 kills it 20 times instead of 3.
 */
const KILLS = process.env.FAULTS_LONG === "1" ? 20 : 3;
const ALERTS = KILLS * 40;

interface Op {
  fingerprint: string;
  result: "invoke" | "ok" | "fail";
}

describe("notifier killed with SIGKILL during deliveries", () => {
  let db: TestDatabase;
  let nats: TestBus;
  let hook: ScriptedReceiver;
  let proc: ServiceProcess | undefined;
  // From dist (built once per run by test/support/build-once.ts): a restart takes a second, not ten.
  const startNotifierProcess = (e: Record<string, string>) =>
    startServiceProcess(
      "notifier",
      "services/notifier/src/main.ts",
      { NOTIFIER_SECRETS_KEY: TEST_SECRETS_KEY, ...e },
      { built: true },
    );

  const env = () => ({
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: NOTIFIER_SCHEMA,
    NATS_PREFIX: nats.prefix,
    CONSUME_EVENTS: "true",
    ALERTMANAGER_INTAKE_TOKEN: INTAKE_TOKEN,
    OUTBOUND_ALLOW_HTTP: "true",
    OUTBOUND_ALLOW_ADDRESSES: "127.0.0.1",
    OUTBOUND_TIMEOUT_MS: "5000",
    DELIVERY_LEASE_MS: "1000",
    DELIVERY_BACKOFF_BASE_MS: "50",
    WORKER_POLL_MS: "100",
  });

  beforeAll(async () => {
    [db, nats, hook] = await Promise.all([
      createTestDatabase({ schema: NOTIFIER_SCHEMA, migrationsDir: NOTIFIER_MIGRATIONS }),
      createTestBus(),
      // A receiver that takes a moment: kills land between sending and recording too.
      startReceiver({ status: 200, body: "ok", delayMs: 30 }),
    ]);
    // Each alert its own group (grouped by every label, and each has its own), so one alert is one
    // notification and a second delivery id for it would be a duplicate.
    const config = {
      route: { receiver: "hook", groupWaitMs: 0, groupBy: ["..."] },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/alerts`, sendResolved: true }],
      inhibitRules: [],
    };
    await db.pool.query("INSERT INTO routing_versions (version, config, author) VALUES (1, $1, 'test')", [
      JSON.stringify(config),
    ]);
  });
  afterAll(async () => {
    await proc?.kill();
    await hook?.close();
    await Promise.allSettled([db?.drop(), nats?.cleanup()]);
  });

  it(`loses no acknowledged alert and notifies none under two delivery ids across ${KILLS} kills`, async () => {
    const history: Op[] = [];
    proc = await startNotifierProcess(env());
    let publishing = true;
    let n = 0;
    const publisher = (async () => {
      // At most ALERTS, spread over the kills: the receiver's backlog stays small.
      while (publishing && n < ALERTS) {
        const fingerprint = `kill-${n++}`;
        history.push({ fingerprint, result: "invoke" });
        try {
          await nats.bus.publish(
            "nexus.alert.raised",
            raised({ fingerprint, labels: { namespace: "kills", instance: fingerprint } }),
          );
          history.push({ fingerprint, result: "ok" });
        } catch {
          history.push({ fingerprint, result: "fail" });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const started = Date.now();
    const timings: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const t0 = Date.now();
      // A random moment: while consuming, grouping, sending or recording.
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1_200));
      await proc.kill();
      proc = await startNotifierProcess(env());
      timings.push(Date.now() - t0);
    }
    publishing = false;
    await publisher;

    // Offline: what JetStream acknowledged against what the receiver saw.
    const acknowledged = new Set(history.filter((o) => o.result === "ok").map((o) => o.fingerprint));
    const idsByFingerprint = new Map<string, Set<string>>();
    const copiesById = new Map<string, number>();
    const seen = () => {
      idsByFingerprint.clear();
      copiesById.clear();
      for (const req of hook.requests) {
        const id = String(req.headers["x-nexus-delivery"]);
        copiesById.set(id, (copiesById.get(id) ?? 0) + 1);
        for (const alert of (req.body as { alerts: { fingerprint: string; status: string }[] }).alerts) {
          if (alert.status !== "firing") continue;
          const ids = idsByFingerprint.get(alert.fingerprint) ?? new Set<string>();
          ids.add(id);
          idsByFingerprint.set(alert.fingerprint, ids);
        }
      }
    };
    const deadline = Date.now() + 60_000;
    let lost: string[] = [];
    for (;;) {
      seen();
      lost = [...acknowledged].filter((f) => !idsByFingerprint.has(f));
      if (lost.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1_500)); // anything still to come would be a duplicate
    seen();
    const duplicates = [...idsByFingerprint].filter(([, ids]) => ids.size > 1).map(([f]) => f);
    const resent = [...copiesById.values()].reduce((sum, c) => sum + (c - 1), 0);
    const undelivered = await db.pool.query(
      "SELECT count(*)::int AS n FROM deliveries WHERE status <> 'delivered'",
    );

    expect(lost).toEqual([]);
    expect(duplicates).toEqual([]);
    expect(undelivered.rows[0].n).toBe(0);
    await recordFigure({
      fault: `notifier SIGKILLed ${KILLS}× during deliveries to a real webhook receiver`,
      outcome: "0 acknowledged alerts lost, 0 notified under two delivery ids",
      figure: `${acknowledged.size} alerts in ${((Date.now() - started) / 1000).toFixed(0)} s (restarts ${timings.map((t) => (t / 1000).toFixed(1)).join("/")} s); ${resent} re-sent under the same id (at-least-once)`,
    });
  }, 300_000);
});
