/**
 * CPU per config change of the services that consume `config.changed`
 * (`pnpm exec tsx test/bench/consumers.ts`; README: "(h) Consumers of config.changed").
 *
 * The real registry runs in this process (its integration harness); the drift-detector, notifier,
 * orchestrator and monitor each run as their own process on their own test database and the
 * registry's NATS prefix, with default settings (no routing config, no pipelines, no policies: what
 * a change costs a system where nobody asked for anything about it). One client writes small
 * documents to one layer, one write in flight, for BENCH_CONSUMERS_SECONDS (10); with BENCH_CONSUMERS_DIRECT=1 the
 * `config.changed` events are published directly instead (one in flight), so a busy machine still
 * gives enough changes to count. Then the run waits
 * until every durable of those services has nothing pending or unacknowledged.
 *
 * Printed per service: CPU ms (user + system, `/proc/<pid>/stat`) per change over the writes and
 * the drain; the same processes' idle CPU per second, measured before the writes; and the CPU per
 * change net of idle (what the changes cost beyond doing nothing for as long). Baseline in
 * the same run: a bare JetStream pull consumer process (`drift-bare-consumer.ts`) on
 * `config.changed.>` that parses and acks each change.
 *
 * Env: BENCH_CONSUMERS_SECONDS (10), BENCH_CONSUMERS_IDLE_SECONDS (5),
 * BENCH_CONSUMERS_SERVICES (comma list; default drift-detector,notifier,orchestrator,monitor).
 */
import { type ChildProcess, fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED } from "@nexus/contracts";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { call, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
};
const WRITE_S = num("BENCH_CONSUMERS_SECONDS", 10);
/** Publish the `config.changed` events directly (one in flight) instead of writing through the registry. */
const DIRECT = process.env.BENCH_CONSUMERS_DIRECT === "1";
const IDLE_S = num("BENCH_CONSUMERS_IDLE_SECONDS", 5);
const NS = "bench-consumers";
const ENV = "production";
const TICKS_PER_SECOND = 100;

interface ServiceSpec {
  name: string;
  schema: string;
  env: Record<string, string>;
}
const ALL: ServiceSpec[] = [
  { name: "drift-detector", schema: "drift_detector", env: {} },
  {
    name: "notifier",
    schema: "notifier",
    env: { NOTIFIER_SECRETS_KEY: randomBytes(32).toString("base64") },
  },
  {
    name: "orchestrator",
    schema: "orchestrator",
    env: { ORCHESTRATOR_HOOK_KEY: randomBytes(24).toString("hex") },
  },
  { name: "monitor", schema: "monitor", env: {} },
];
const wanted = (process.env.BENCH_CONSUMERS_SERVICES ?? ALL.map((s) => s.name).join(","))
  .split(",")
  .map((s) => s.trim());
const specs = ALL.filter((s) => wanted.includes(s.name));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stdout.write(`${s}\n`);
const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND) * 1_000;
};

const registry = await startRegistry();
const started: { spec: ServiceSpec; db: TestDatabase; proc: ServiceProcess }[] = [];
let bare: ChildProcess | undefined;
const cleanup = async () => {
  bare?.kill("SIGKILL");
  for (const s of started) {
    await s.proc.kill().catch(() => undefined);
    await s.db.drop().catch(() => undefined);
  }
  await registry.close().catch(() => undefined);
};
const watchdog = setTimeout(
  () => {
    log("consumers bench: watchdog fired, giving up");
    void cleanup().finally(() => process.exit(2));
  },
  (900 + IDLE_S + WRITE_S * 4) * 1_000,
);
watchdog.unref();

try {
  await call(registry, "POST", "/v1/namespaces", { name: NS });
  await call(registry, "PUT", `/v1/namespaces/${NS}/layers/base`, { pool: 10 });
  for (const spec of specs) {
    const db = await createTestDatabase({
      schema: spec.schema,
      migrationsDir: fileURLToPath(new URL(`../../services/${spec.name}/migrations`, import.meta.url)),
    });
    const proc = await startServiceProcess(
      spec.name,
      `services/${spec.name}/src/main.ts`,
      {
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: spec.schema,
        NATS_PREFIX: registry.nats.prefix,
        REDIS_KEY_PREFIX: `${registry.nats.prefix}:${spec.name}:`,
        LOG_LEVEL: process.env.BENCH_CONSUMERS_LOG_LEVEL ?? "warn",
        ...spec.env,
      },
      { readyTimeoutMs: 180_000 },
    );
    started.push({ spec, db, proc });
  }
  bare = fork(fileURLToPath(new URL("./drift-bare-consumer.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    env: {
      ...process.env,
      NATS_URL: process.env.NEXUS_TEST_NATS_URL ?? "nats://127.0.0.1:4222",
      STREAM: registry.nats.streams.events,
      SUBJECT: `${registry.nats.prefix}.config.changed.>`,
      DURABLE: "bench-bare-changes",
    },
  });
  await new Promise<void>((resolve) => bare!.once("message", () => resolve()));
  // One change first, so every durable exists and every lazy path has run once.
  await call(registry, "PUT", `/v1/namespaces/${NS}/layers/${ENV}`, { pool: 11 });
  const jsm = await jetstreamManager(registry.nats.nc);
  const ours = (name: string) => name !== "bench-bare-changes";
  const backlog = async () => {
    let n = 0;
    for await (const c of jsm.consumers.list(registry.nats.streams.events)) {
      if (ours(c.name)) n += c.num_pending + c.num_ack_pending;
    }
    return n;
  };
  const drained = async (deadlineMs: number) => {
    const until = performance.now() + deadlineMs;
    while ((await backlog()) > 0) {
      if (performance.now() > until) throw new Error("the services did not catch up within the deadline");
      await sleep(50);
    }
  };
  await drained(30_000);
  await sleep(1_000);

  const pids = [
    ...started.map((s) => ({ name: s.spec.name, pid: s.proc.child.pid! })),
    { name: "bare", pid: bare.pid! },
  ];
  const snap = () => new Map(pids.map((p) => [p.name, cpuMs(p.pid)]));

  // Idle: what the processes cost with nothing to do (pull requests, heartbeats, polls).
  const i0 = snap();
  const ti = performance.now();
  await sleep(IDLE_S * 1_000);
  const idleWall = (performance.now() - ti) / 1_000;
  const i1 = snap();

  // The load: one writer, one write in flight.
  const c0 = snap();
  const t0 = performance.now();
  let changes = 0;
  const stopAt = t0 + WRITE_S * 1_000;
  let previous = { revision: 0, hash: "0".repeat(64) };
  while (performance.now() < stopAt) {
    const n = changes++;
    if (DIRECT) {
      // The event a write would publish, without the write: more changes per second on a busy machine.
      const next = { revision: 1_000 + n, hash: createHash("sha256").update(String(n)).digest("hex") };
      await registry.nats.bus.publish(CONFIG_CHANGED, {
        schemaVersion: 1,
        namespace: NS,
        environment: ENV,
        revision: next.revision,
        previousRevision: previous.revision,
        hash: next.hash,
        previousHash: previous.hash,
        layer: ENV,
        changedPaths: ["/pool"],
        trigger: "write",
        actor: "bench",
        source: "api",
      });
      previous = next;
      continue;
    }
    const res = await call(registry, "PUT", `/v1/namespaces/${NS}/layers/${ENV}`, {
      pool: 100 + n,
      note: `write ${n}`,
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`write answered ${res.status}`);
  }
  const writeWall = (performance.now() - t0) / 1_000;
  await drained(120_000);
  const wall = (performance.now() - t0) / 1_000;
  const c1 = snap();

  const rows: string[] = [];
  const figures = (name: string) => {
    const idlePerS = (i1.get(name)! - i0.get(name)!) / idleWall;
    const raw = (c1.get(name)! - c0.get(name)!) / changes;
    // What the changes cost beyond what the process spends doing nothing for as long.
    const net = Math.max(0, c1.get(name)! - c0.get(name)! - idlePerS * wall) / changes;
    return { idlePerS, raw, net };
  };
  const bareFig = figures("bare");
  const total = { raw: 0, net: 0 };
  for (const p of pids) {
    const f = figures(p.name);
    if (p.name !== "bare") {
      total.raw += f.raw;
      total.net += f.net;
    }
    rows.push(
      `| ${p.name === "bare" ? "baseline: bare JetStream consumer" : p.name} | ${f.raw.toFixed(2)} ms | ${f.net.toFixed(2)} ms | ${f.idlePerS.toFixed(1)} ms/s | ${(f.raw / bareFig.raw).toFixed(1)}x |`,
    );
  }
  log(
    `consumers bench${DIRECT ? " (events published directly)" : ""}: ${changes} changes in ${writeWall.toFixed(1)} s (${(changes / writeWall).toFixed(0)}/s, one in flight), drained after ${wall.toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  log("| process | CPU per change | net of idle | idle CPU | ratio to baseline (per change) |");
  log("|---|---|---|---|---|");
  for (const r of rows) log(r);
  log(
    `| all four | ${total.raw.toFixed(2)} ms | ${total.net.toFixed(2)} ms | | ${(total.raw / bareFig.raw).toFixed(1)}x |`,
  );
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
process.exit(0);
