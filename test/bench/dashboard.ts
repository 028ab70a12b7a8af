/**
 * Dashboard figures (`pnpm exec tsx test/bench/dashboard.ts`), on the real Postgres and NATS, with
 * the monitor and the drift-detector built as the integration harnesses build them and listening on
 * loopback: BENCH_NAMESPACES (100) namespaces × 3 environments, BENCH_INSTANCES (1,000) instances
 * that acked their revision.
 *
 * 1. First load: the page (`GET /dashboard`, static, the baseline: same server, same connection
 *    handling) and its data (`GET /v1/dashboard/state`: services, alerts, the grid with each
 *    cell's convergence read from the drift-detector with the user's token), BENCH_SAMPLES (30)
 *    times each, one after another.
 * 2. Live update: `config.changed` published → the `head` event read from the dashboard's stream,
 *    BENCH_SAMPLES times; beside it the same event heard by a plain NATS subscriber.
 *
 * A measurement, not a test: it exits non-zero only when the run is not valid (a non-200 answer,
 * an event that never arrives).
 */
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { CONFIG_APPLIED, CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import { createLogger } from "@nexus/kit";
import { createTestBus, createTestDatabase, startTestIssuer } from "@nexus/test-fixtures";
import {
  DETECTOR_MIGRATIONS,
  DETECTOR_SCHEMA,
  startDetector,
} from "../../services/drift-detector/test/integration/harness.js";
import { eventually, startMonitor } from "../../services/monitor/test/integration/harness.js";
import { summarize } from "./stats.js";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return Math.floor(v);
};
const NAMESPACES = num("BENCH_NAMESPACES", 100);
const INSTANCES = num("BENCH_INSTANCES", 1_000);
const SAMPLES = num("BENCH_SAMPLES", 30);
const ENVIRONMENTS = ["development", "staging", "production"];
const hashOf = (n: number) => n.toString(16).padStart(64, "0");

const changed = (namespace: string, environment: string, revision: number): ConfigChanged => ({
  schemaVersion: 1,
  namespace,
  environment,
  revision,
  previousRevision: revision - 1,
  hash: hashOf(revision),
  previousHash: null,
  layer: environment,
  changedPaths: ["/replicas"],
  trigger: "write",
  actor: "bench",
  source: "api",
});

const fmt = (label: string, samples: number[]) => {
  const s = summarize([Float64Array.from(samples)]);
  return `  ${label.padEnd(44)} p50 ${s.p50.toFixed(1).padStart(7)} ms   p99 ${s.p99.toFixed(1).padStart(7)} ms   (n=${s.n})`;
};

async function main() {
  const logger = createLogger({ service: "bench-dashboard", level: "silent" });
  const [detectorDb, issuer] = await Promise.all([
    createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS }),
    startTestIssuer(),
  ]);
  const nats = await createTestBus({ source: "nexus/bench" });
  const detector = await startDetector(detectorDb, nats.prefix, issuer, { flushIntervalMs: 200 });
  await detector.app.app.listen({ host: "127.0.0.1", port: 0 });
  const detectorUrl = `http://127.0.0.1:${(detector.app.app.server.address() as AddressInfo).port}`;
  const monitor = await startMonitor(
    { driftDetectorUrl: detectorUrl },
    { nats, authenticator: () => issuer.authenticator(logger) },
  );
  await monitor.app.app.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(monitor.app.app.server.address() as AddressInfo).port}`;
  const token = await issuer.token(["viewer:*:*"], { subject: "bench" });
  const auth = { authorization: `Bearer ${token}` };
  const bus = monitor.nats.bus;

  try {
    process.stdout.write(
      `Seeding ${NAMESPACES} namespaces × ${ENVIRONMENTS.length} environments, ${INSTANCES} instances…\n`,
    );
    const cells = Array.from({ length: NAMESPACES }, (_, i) => `ns-${String(i).padStart(3, "0")}`).flatMap(
      (ns) => ENVIRONMENTS.map((env) => ({ ns, env })),
    );
    await Promise.all(cells.map((c) => bus.publish(CONFIG_CHANGED, changed(c.ns, c.env, 1))));
    for (let i = 0; i < INSTANCES; i++) {
      const c = cells[i % cells.length]!;
      await bus.publish(CONFIG_APPLIED, {
        schemaVersion: 1,
        status: "applied",
        service: c.ns,
        instanceId: `${c.ns}-${c.env}-${i}`,
        namespace: c.ns,
        environment: c.env,
        revision: 1,
        hash: hashOf(1),
        source: "live",
        trigger: "change",
        appliedAt: new Date().toISOString(),
      });
    }
    await eventually(
      async () => (await monitor.db.pool.query("SELECT count(*)::int AS n FROM config_heads")).rows[0].n,
      (n) => n === cells.length,
      60_000,
    );
    await eventually(
      async () =>
        (await detectorDb.pool.query("SELECT count(*)::int AS n FROM drift_detector.revision_reports"))
          .rows[0].n,
      (n) => n === INSTANCES,
      60_000,
    );
    await eventually(
      async () =>
        (await detectorDb.pool.query("SELECT count(*)::int AS n FROM drift_detector.heads")).rows[0].n,
      (n) => n === cells.length,
      60_000,
    );

    const timeGet = async (path: string, headers: Record<string, string> = {}) => {
      const started = performance.now();
      const res = await fetch(base + path, { headers });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 200)}`);
      return { ms: performance.now() - started, bytes: body.length, body };
    };
    const page: number[] = [];
    const state: number[] = [];
    let stateBytes = 0;
    let withConvergence = 0;
    for (let i = 0; i < SAMPLES; i++) {
      page.push((await timeGet("/dashboard")).ms);
      const s = await timeGet("/v1/dashboard/state", auth);
      state.push(s.ms);
      stateBytes = s.bytes;
      withConvergence = (JSON.parse(s.body).grid as Array<{ convergence: unknown }>).filter(
        (c) => c.convergence,
      ).length;
    }

    // Live: one stream open, one change at a time.
    const res = await fetch(`${base}/v1/dashboard/events`, { headers: auth });
    const heard = new Map<number, number>();
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.startsWith("event: head")) continue;
          heard.set(JSON.parse(frame.slice(frame.indexOf("data: ") + 6)).revision, performance.now());
        }
      }
    })().catch(() => undefined);
    const natsHeard = new Map<number, number>();
    const sub = bus.subscribe(
      CONFIG_CHANGED,
      {},
      (e) => void natsHeard.set(e.data.revision, performance.now()),
    );
    await eventually(
      async () => monitor.app.hub.size(),
      (n) => n === 1,
    );
    const live: number[] = [];
    const nats: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const revision = 100 + i;
      const sent = performance.now();
      await bus.publish(CONFIG_CHANGED, changed("ns-000", "production", revision));
      await eventually(
        async () => heard.get(revision),
        (t) => t !== undefined,
        10_000,
      );
      live.push((heard.get(revision) ?? 0) - sent);
      nats.push((natsHeard.get(revision) ?? sent) - sent);
    }
    await sub.stop();

    process.stdout.write(
      [
        "",
        `Dashboard, ${cells.length} cells (${withConvergence} with convergence from the drift-detector), ${INSTANCES} instances:`,
        fmt("first load: GET /dashboard (static page)", page),
        fmt(`first load: GET /v1/dashboard/state (${Math.round(stateBytes / 1024)} KiB)`, state),
        fmt("live: config.changed → head on the stream", live),
        fmt("baseline: config.changed → NATS subscriber", nats),
        "",
      ].join("\n"),
    );
  } finally {
    await monitor.close().catch(() => undefined);
    await detector.stop().catch(() => undefined);
    await issuer.close();
    await nats.cleanup();
    await detectorDb.drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
