/**
 * Notifier benchmark (`pnpm exec tsx test/bench/notifier.ts`), on the real Postgres and NATS:
 *
 * 1. Burst: BENCH_BURST (10,000) `alert.raised` events across BENCH_FINGERPRINTS (100)
 *    fingerprints, grouped by namespace into BENCH_GROUPS (10) groups, to a local webhook
 *    receiver. Checks: delivered notifications = groups, every fingerprint in exactly one message.
 * 2. Latency: `alert.raised` (critical, group wait 0) published → webhook request at the
 *    receiver, BENCH_SAMPLES (200) times one after another; p50/p99 beside two baselines measured
 *    in the same run: a JetStream publish heard by a NATS subscriber, and a bare HTTP POST of the
 *    same size to the same receiver.
 *
 * Exits non-zero when a check fails (lost or extra notifications), not when a target is missed.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { EventData } from "@nexus/contracts";
import { createLogger } from "@nexus/kit";
import { createTestBus, createTestDatabase } from "@nexus/test-fixtures";
import { buildApp } from "../../services/notifier/src/app.js";
import {
  NOTIFIER_MIGRATIONS,
  NOTIFIER_SCHEMA,
  testConfig,
} from "../../services/notifier/test/integration/harness.js";
import { summarize } from "./stats.js";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return Math.floor(v);
};
const BURST = num("BENCH_BURST", 10_000);
const FINGERPRINTS = num("BENCH_FINGERPRINTS", 100);
const GROUPS = num("BENCH_GROUPS", 10);
const SAMPLES = num("BENCH_SAMPLES", 200);
/** Long enough for the whole burst to be taken in before the groups first speak. */
const GROUP_WAIT_MS = num("BENCH_GROUP_WAIT_MS", 40_000);
const TARGET_P99_MS = 200;

interface Arrival {
  at: number;
  body: { alerts: { fingerprint: string }[]; groupLabels: Record<string, string> };
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });

async function main() {
  const logger = createLogger({ service: "bench-notifier", level: "silent" });
  const [db, nats] = await Promise.all([
    createTestDatabase({ schema: NOTIFIER_SCHEMA, migrationsDir: NOTIFIER_MIGRATIONS }),
    createTestBus({ source: "nexus/bench" }),
  ]);
  const arrivals = new Map<string, Arrival[]>();
  const receiver = createServer(async (req, res) => {
    const raw = await readBody(req);
    const at = performance.now();
    res.writeHead(200).end("ok");
    const list = arrivals.get(req.url ?? "") ?? [];
    list.push({ at, body: raw ? JSON.parse(raw) : { alerts: [], groupLabels: {} } });
    arrivals.set(req.url ?? "", list);
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const app = await buildApp({
    // The benchmark calls services directly, never the HTTP API: an authenticator that knows no one.
    access: { authenticator: { authenticate: async () => null } },
    logger,
    pool: db.pool,
    nc: nats.nc,
    bus: nats.bus,
    config: testConfig({ consumerConcurrency: 16, workerPollMs: 1_000, routingCacheMs: 1_000 }),
  });
  await app.services.routing.replace(
    {
      route: {
        receiver: "burst",
        groupBy: ["namespace"],
        groupWaitMs: GROUP_WAIT_MS,
        groupIntervalMs: 3_600_000,
        repeatIntervalMs: 3_600_000,
        routes: [
          {
            matchers: [{ label: "severity", op: "=", value: "critical" }],
            receiver: "latency",
            groupBy: ["..."],
            groupWaitMs: 0,
          },
        ],
      },
      receivers: [
        { name: "burst", type: "webhook", url: `${base}/burst`, headers: {}, sendResolved: true },
        { name: "latency", type: "webhook", url: `${base}/latency`, headers: {}, sendResolved: true },
      ],
      inhibitRules: [],
    },
    { author: "bench" },
  );
  await app.workers.start();

  const alert = (
    fingerprint: string,
    namespace: string,
    severity: "warning" | "critical",
  ): EventData<"nexus.alert.raised"> => ({
    schemaVersion: 1,
    fingerprint,
    severity,
    summary: `bench alert ${fingerprint}`,
    details: "",
    labels: { namespace, environment: "production" },
    links: [],
    source: "monitor",
    startsAt: new Date().toISOString(),
  });

  let failed = false;
  const check = (ok: boolean, what: string) => {
    if (!ok) failed = true;
    process.stdout.write(`${ok ? "ok  " : "FAIL"} ${what}\n`);
  };

  // --- 1. burst --------------------------------------------------------------------------------
  const t0 = performance.now();
  const publishes: Promise<unknown>[] = [];
  for (let i = 0; i < BURST; i++) {
    const fp = i % FINGERPRINTS;
    publishes.push(
      nats.bus.publish("nexus.alert.raised", alert(`burst-${fp}`, `ns-${fp % GROUPS}`, "warning")),
    );
    if (publishes.length >= 500) await Promise.all(publishes.splice(0));
  }
  await Promise.all(publishes);
  const published = performance.now();
  for (;;) {
    const { rows } = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM processed_events");
    if (Number(rows[0]!.n) >= BURST) break;
    if (performance.now() - t0 > GROUP_WAIT_MS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const ingested = performance.now();
  const ingestMs = ingested - t0;
  check(
    ingestMs < GROUP_WAIT_MS,
    `burst taken in within the group wait (${(ingestMs / 1000).toFixed(1)} s < ${GROUP_WAIT_MS / 1000} s)`,
  );
  const deadline = t0 + GROUP_WAIT_MS + 15_000;
  while ((arrivals.get("/burst")?.length ?? 0) < GROUPS && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 2_000)); // anything extra would arrive now
  const burst = arrivals.get("/burst") ?? [];
  const seen = burst.flatMap((a) => a.body.alerts.map((x) => x.fingerprint));
  check(burst.length === GROUPS, `delivered notifications = groups (${burst.length} of ${GROUPS})`);
  check(
    seen.length === FINGERPRINTS && new Set(seen).size === FINGERPRINTS,
    `every fingerprint in exactly one message (${new Set(seen).size} distinct of ${FINGERPRINTS}, ${seen.length} in all)`,
  );
  const alertsRow = await db.pool.query<{ n: string; received: string }>(
    "SELECT count(*) AS n, sum(received_count) AS received FROM alerts",
  );
  check(
    Number(alertsRow.rows[0]!.received) === BURST,
    `no event lost: ${alertsRow.rows[0]!.received} received, ${alertsRow.rows[0]!.n} alerts after dedup`,
  );

  // --- 2. latency ------------------------------------------------------------------------------
  const latencies = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const before = arrivals.get("/latency")?.length ?? 0;
    const start = performance.now();
    await nats.bus.publish("nexus.alert.raised", alert(`lat-${i}`, `lat-${i}`, "critical"));
    while ((arrivals.get("/latency")?.length ?? 0) <= before) await new Promise((r) => setImmediate(r));
    latencies[i] = arrivals.get("/latency")![before]!.at - start;
  }

  // Baseline 1: a JetStream publish heard by a core NATS subscriber (the bus with no notifier).
  const subject = nats.bus.subjectFor("nexus.alert.raised", alert("x", "x", "critical"));
  const natsRtt = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const sub = nats.nc.subscribe(subject, { max: 1 });
    const got = (async () => {
      for await (const _ of sub) return performance.now();
      return Number.NaN;
    })();
    const start = performance.now();
    await nats.bus.publish("nexus.alert.raised", alert(`nats-${i}`, "x", "critical"));
    natsRtt[i] = (await got) - start;
  }
  // Baseline 2: a bare HTTP POST of a webhook-sized body to the same receiver, until it has it.
  const sample = JSON.stringify(arrivals.get("/latency")![0]!.body);
  const httpRtt = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    await fetch(`${base}/bare`, {
      method: "POST",
      body: sample,
      headers: { "content-type": "application/json" },
    }).then((r) => r.text());
    httpRtt[i] = arrivals.get("/bare")!.at(-1)!.at - start;
  }
  // The events just published for the baseline must not reach the latency receiver late: let them settle.
  await new Promise((r) => setTimeout(r, 500));

  const n = summarize([latencies]);
  const b1 = summarize([natsRtt]);
  const b2 = summarize([httpRtt]);
  const base99 = b1.p99 + b2.p99;
  const fmt = (x: number) => x.toFixed(2).padStart(8);
  process.stdout.write(
    [
      "",
      `burst: ${BURST} events, ${FINGERPRINTS} fingerprints, ${GROUPS} groups; published in ${((published - t0) / 1000).toFixed(2)} s, taken in in ${(ingestMs / 1000).toFixed(2)} s (${Math.round(BURST / (ingestMs / 1000))} events/s)`,
      "",
      `latency (ms, ${SAMPLES} samples)              p50      p99      max`,
      `alert.raised -> receiver (notifier)    ${fmt(n.p50)} ${fmt(n.p99)} ${fmt(n.max)}`,
      `baseline: JetStream publish -> sub     ${fmt(b1.p50)} ${fmt(b1.p99)} ${fmt(b1.max)}`,
      `baseline: bare HTTP POST -> receiver   ${fmt(b2.p50)} ${fmt(b2.p99)} ${fmt(b2.max)}`,
      `ratio notifier / (NATS + HTTP), p99    ${(n.p99 / base99).toFixed(1)}x`,
      `target p99 <= ${TARGET_P99_MS} ms: ${n.p99 <= TARGET_P99_MS ? "yes" : "no"}`,
      "",
    ].join("\n"),
  );

  await app.workers.stop();
  await app.app.close();
  await new Promise<void>((r) => receiver.close(() => r()));
  await Promise.allSettled([db.drop(), nats.cleanup()]);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`notifier benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
