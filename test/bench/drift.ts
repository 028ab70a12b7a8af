/**
 * Drift-detector benchmark (`pnpm exec tsx test/bench/drift.ts`; README: "(d) Drift detection").
 *
 * N simulated instances (default 10,000) heartbeat every I s (default 10: 1,000 msg/s) on the
 * real bus; the detector runs as its own process on the real Postgres and NATS, next to the real
 * registry (in this process). Then a change is written; 99% of the instances ack and move to it,
 * 1% never do. Printed: the detector's CPU per 1,000 msg/s (target < 25% of one core) beside a bare
 * JetStream consumer's over the same seconds, and the time until every stale finding is raised
 * (target: grace + 1 s) beside the NATS round trip measured in the same run.
 *
 * Env: BENCH_DRIFT_INSTANCES (10000), BENCH_DRIFT_INTERVAL_SECONDS (10), BENCH_DRIFT_SECONDS
 * (measured steady state, 20), BENCH_DRIFT_GRACE_SECONDS (5), BENCH_DRIFT_FAIL_SHARE (0.01).
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { CONFIG_APPLIED, INSTANCE_HEARTBEAT, type InstanceHeartbeat } from "@nexus/contracts";
import { createTestDatabase } from "@nexus/test-fixtures";
import { call, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import { startDetectorProcess } from "../support/detector-process.js";
import { summarize } from "./stats.js";

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
};
const INSTANCES = Math.floor(num("BENCH_DRIFT_INSTANCES", 10_000));
const INTERVAL_S = num("BENCH_DRIFT_INTERVAL_SECONDS", 10);
const STEADY_S = num("BENCH_DRIFT_SECONDS", 20);
const GRACE_S = num("BENCH_DRIFT_GRACE_SECONDS", 5);
const FAIL_SHARE = num("BENCH_DRIFT_FAIL_SHARE", 0.01);
const RATE = INSTANCES / INTERVAL_S;
const TICK_MS = 20;
const NS = "bench-drift";
const ENV = "production";
const DETECTOR_MIGRATIONS = fileURLToPath(
  new URL("../../services/drift-detector/migrations", import.meta.url),
);
const TICKS_PER_SECOND = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stdout.write(`${s}\n`);
const cpuTicks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
};

const registry = await startRegistry();
const db = await createTestDatabase({ schema: "drift_detector", migrationsDir: DETECTOR_MIGRATIONS });
const bus = registry.nats.bus;
let detector: Awaited<ReturnType<typeof startDetectorProcess>> | undefined;
let bare: ChildProcess | undefined;
const cleanup = async () => {
  bare?.kill("SIGKILL");
  await detector?.kill();
  await registry.close().catch(() => undefined);
  await db.drop().catch(() => undefined);
};
const watchdog = setTimeout(
  () => {
    log("drift bench: watchdog fired, giving up");
    void cleanup().finally(() => process.exit(2));
  },
  (120 + INTERVAL_S * 3 + STEADY_S + GRACE_S) * 1_000,
);
watchdog.unref();

try {
  await call(registry, "POST", "/v1/namespaces", { name: NS });
  await call(registry, "PUT", `/v1/namespaces/${NS}/layers/base`, { pool: 10 });
  const resolved = async () =>
    (await call(registry, "GET", `/v1/namespaces/${NS}/environments/${ENV}/resolved`)).body as {
      revision: number;
      hash: string;
    };
  const before = await resolved();

  detector = await startDetectorProcess({
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: "drift_detector",
    NATS_PREFIX: registry.nats.prefix,
    STALE_GRACE_SECONDS: String(GRACE_S),
    LOG_LEVEL: process.env.BENCH_DRIFT_LOG_LEVEL ?? "warn",
    INSTANCE_GONE_AFTER_SECONDS: String(INTERVAL_S * 6),
  });
  const detectorPid = detector.child.pid!;

  // Which instances never apply the change.
  const failing = new Set<number>();
  const failCount = Math.max(1, Math.round(INSTANCES * FAIL_SHARE));
  for (let i = 0; i < failCount; i++) failing.add(Math.floor((i * INSTANCES) / failCount));
  const running: { revision: number; hash: string }[] = Array.from({ length: INSTANCES }, () => before);
  const started = new Date().toISOString();
  const beat = (i: number): InstanceHeartbeat => ({
    schemaVersion: 1,
    service: "sim",
    instanceId: `sim-${String(i).padStart(5, "0")}`,
    namespace: NS,
    environment: ENV,
    ...running[i]!,
    status: "live",
    startedAt: started,
    sdkVersion: "bench",
    intervalSeconds: INTERVAL_S,
  });

  // The load: every instance once per interval, spread evenly in ticks of TICK_MS.
  let next = 0;
  let sent = 0;
  let pubErrors = 0;
  let stopLoad = false;
  const inflight = new Set<Promise<unknown>>();
  const perTick = (RATE * TICK_MS) / 1_000;
  let owed = 0;
  const load = (async () => {
    let at = performance.now();
    while (!stopLoad) {
      owed += perTick;
      while (owed >= 1) {
        owed -= 1;
        const i = next;
        next = (next + 1) % INSTANCES;
        const p = bus
          .publish(INSTANCE_HEARTBEAT, beat(i))
          .catch(() => pubErrors++)
          .finally(() => inflight.delete(p));
        inflight.add(p);
        sent++;
      }
      at += TICK_MS;
      await sleep(Math.max(0, at - performance.now()));
    }
  })();

  // Same-run baselines: NATS request/reply round trip, and a bare consumer of the same subjects.
  const echo = registry.nats.nc.subscribe(`${registry.nats.prefix}.bench.echo`, {
    callback: (_e, m) => void m.respond(m.data),
  });
  const rtt: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await registry.nats.nc.request(`${registry.nats.prefix}.bench.echo`, "x", { timeout: 2_000 });
    rtt.push(performance.now() - t);
  }
  echo.unsubscribe();
  const natsRtt = summarize([Float64Array.from(rtt)]);
  bare = fork(fileURLToPath(new URL("./drift-bare-consumer.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    env: {
      ...process.env,
      NATS_URL: process.env.NEXUS_TEST_NATS_URL ?? "nats://127.0.0.1:4222",
      STREAM: registry.nats.streams.events,
      SUBJECT: `${registry.nats.prefix}.instance.heartbeat.>`,
      DURABLE: "bench-bare",
    },
  });
  await new Promise<void>((resolve) => bare!.once("message", () => resolve()));

  log(
    `drift bench: ${INSTANCES} instances every ${INTERVAL_S} s = ${RATE} heartbeats/s; warming up one interval`,
  );
  await sleep(INTERVAL_S * 1_000);

  // Steady state: CPU of the detector and of the bare consumer over the same seconds.
  const sent0 = sent;
  const d0 = cpuTicks(detectorPid);
  const b0 = cpuTicks(bare.pid!);
  const t0 = performance.now();
  await sleep(STEADY_S * 1_000);
  const wall = (performance.now() - t0) / 1_000;
  const rate = (sent - sent0) / wall;
  const detCpu = (cpuTicks(detectorPid) - d0) / TICKS_PER_SECOND / wall;
  const bareCpu = (cpuTicks(bare.pid!) - b0) / TICKS_PER_SECOND / wall;
  const per1k = (share: number) => share / (rate / 1_000);

  // The change: 99% apply it within a second (ack + newer heartbeats), the rest never do.
  const findings = new Set<string>();
  let firstAt = 0;
  let lastAt = 0;
  await bus.consume("nexus.drift.detected", { durable: "bench-drift-watch", deliverPolicy: "new" }, (e) => {
    if (e.data.kind !== "stale") return;
    findings.add(e.data.findingId);
    lastAt = performance.now();
    firstAt ||= lastAt;
  });
  const tChange = performance.now();
  await call(registry, "PUT", `/v1/namespaces/${NS}/layers/${ENV}`, { pool: 20 });
  const after = await resolved();
  for (let i = 0; i < INSTANCES; i++) {
    if (failing.has(i)) continue;
    running[i] = after;
    const p = bus
      .publish(CONFIG_APPLIED, {
        schemaVersion: 1,
        service: "sim",
        instanceId: beat(i).instanceId,
        namespace: NS,
        environment: ENV,
        ...after,
        status: "applied",
        source: "live",
        trigger: "change",
        appliedAt: new Date().toISOString(),
      })
      .catch(() => pubErrors++)
      .finally(() => inflight.delete(p));
    inflight.add(p);
    if (i % 100 === 0) await sleep(10);
  }
  const deadline = performance.now() + (GRACE_S + 30) * 1_000;
  while (findings.size < failCount && performance.now() < deadline) await sleep(50);
  await sleep(2_000); // anything extra (a false stale finding) would show up now
  const raised = findings.size;
  const allRaisedS = (lastAt - tChange) / 1_000;
  const stats = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM drift_detector.findings WHERE kind = 'stale' AND status = 'open'",
  );
  stopLoad = true;
  await load;
  await Promise.allSettled([...inflight]);

  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  log("");
  log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ")} (1/5/15 min)`,
  );
  log("| measure | drift-detector | baseline (same run) | ratio | target | met |");
  log("|---|---|---|---|---|---|");
  log(
    `| CPU per 1,000 msg/s (one core) | ${pct(per1k(detCpu))} | bare JetStream consumer ${pct(per1k(bareCpu))} | ${(detCpu / Math.max(bareCpu, 1e-9)).toFixed(1)}x | < 25% | ${per1k(detCpu) < 0.25 ? "yes" : "no"} |`,
  );
  log(
    `| all ${failCount} stale findings raised after the change | ${allRaisedS.toFixed(2)} s (first ${((firstAt - tChange) / 1_000).toFixed(2)} s) | NATS round trip p50 ${natsRtt.p50.toFixed(2)} ms | ${(allRaisedS - GRACE_S).toFixed(2)} s over grace | grace + 1 s = ${GRACE_S + 1} s | ${raised === failCount && allRaisedS <= GRACE_S + 1 ? "yes" : "no"} |`,
  );
  log("");
  log(
    `heartbeats sent ${sent} (${rate.toFixed(0)}/s measured over ${wall.toFixed(1)} s), publish errors ${pubErrors}; stale findings announced ${raised} of ${failCount}, open in Postgres ${stats.rows[0]?.n}`,
  );
  if (process.env.BENCH_DRIFT_LOG_FILE) writeFileSync(process.env.BENCH_DRIFT_LOG_FILE, detector.output());
  if (raised !== failCount || pubErrors > 0) process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
process.exit(process.exitCode ?? 0);
