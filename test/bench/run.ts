/**
 * Nexus benchmark: each figure of the registry next to a baseline measured in the same run, as a
 * ratio. `pnpm bench` (BENCH_SECONDS per measured phase, default 5). See test/bench/README.md.
 *
 * Exits 0 when the run completed, whatever the figures; non-zero on errors (non-2xx responses,
 * connection errors, missing events, a mismatch between the two read bodies, ...).
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { buildApp, type RegistryApp } from "@nexus/config-registry";
import { createLogger } from "@nexus/kit";
import {
  createTestBus,
  createTestDatabase,
  createTestNats,
  createTestRedis,
  type TestBus,
  type TestDatabase,
  type TestNats,
  type TestRedis,
} from "@nexus/test-fixtures";
import { REGISTRY_MIGRATIONS, REGISTRY_SCHEMA } from "../../services/config-registry/test/integration/harness.js";
import { type Listening, startBareRead, startBareWrite } from "./baseline.js";
import { baseDocument, NAMESPACE_VARIABLES, overlayDocument } from "./documents.js";
import type { FromChild, Job, ReadResult, ToChild, WriteJob, WriteResult } from "./protocol.js";
import { cpuShare } from "./stats.js";

const SECONDS = positive("BENCH_SECONDS", 5);
const CONNECTIONS = positive("BENCH_CONNECTIONS", 10);
const WRITERS = positive("BENCH_WRITERS", 8);
/** Hard cap per write phase, so a fast machine still sends a bounded number of requests. */
const MAX_WRITES = positive("BENCH_MAX_WRITES", 50_000);
/** `silent` (default, like the tests) or e.g. `info` to include the per-request log line (to /dev/null). */
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "silent";
const WARMUP_SECONDS = Math.min(2, Math.max(1, SECONDS / 5));
/** The whole run gives up (and cleans up) after this. */
const WATCHDOG_MS = (120 + SECONDS * 20) * 1_000;

const READ_NAMESPACE = "bench-read";
const READ_ENVIRONMENT = "production";

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// The load generator (child process)

interface LoadProcess {
  run<R>(job: Job): Promise<R>;
  stop(): Promise<void>;
}

function startLoadProcess(): LoadProcess {
  const child: ChildProcess = fork(fileURLToPath(new URL("./load.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let next = 0;
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  child.on("message", (m: FromChild) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error));
  });
  child.on("exit", (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`load generator exited (${code ?? signal})`));
    pending.clear();
  });
  const call = <R>(job: ToChild["job"]): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      child.send({ id, job } satisfies ToChild);
    });
  return {
    run: (job) => call(job),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      await Promise.race([call({ cmd: "exit" }).catch(() => undefined), exited]);
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The registry, in this process, on real Postgres / NATS / Redis with their own names

interface Resources {
  db?: TestDatabase;
  bus?: TestBus;
  redis?: TestRedis;
  baselineNats?: TestNats;
  registry?: RegistryApp;
  servers: Listening[];
  load?: LoadProcess;
  logFd?: number;
}

async function startRegistry(res: Resources): Promise<string> {
  const [db, bus, redis, baselineNats] = await Promise.all([
    createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
    createTestBus({ source: "nexus/config-registry" }),
    createTestRedis(),
    createTestNats(),
  ]);
  Object.assign(res, { db, bus, redis, baselineNats });
  let logger = createLogger({ service: "config-registry-bench", level: "silent" });
  if (LOG_LEVEL !== "silent") {
    // A synchronous write per line, like pino's default stdout destination, to /dev/null.
    const fd = openSync("/dev/null", "w");
    res.logFd = fd;
    logger = createLogger(
      { service: "config-registry-bench", level: LOG_LEVEL as "info" },
      { write: (line: string) => void writeSync(fd, line) },
    );
  }
  const registry = await buildApp({
    logger,
    pool: db.pool,
    redis: redis.redis,
    nc: bus.nc,
    bus: bus.bus,
    config: {
      databaseUrl: db.url,
      schema: REGISTRY_SCHEMA,
      defaultEnvironments: ["development", "staging", "production"],
      cacheTtlSeconds: 300, // the service's default
      bodyLimit: 1024 * 1024,
      outboxRelay: true,
    },
  });
  res.registry = registry;
  await registry.workers.start();
  await registry.app.listen({ host: "127.0.0.1", port: 0 });
  const address = registry.app.server.address();
  if (!address || typeof address === "string") throw new Error("registry has no TCP address");
  return `http://127.0.0.1:${address.port}`;
}

async function http(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method,
    ...(body !== undefined
      ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return { status: res.status, text };
}

async function seedNamespace(registryUrl: string, name: string): Promise<void> {
  await http("POST", `${registryUrl}/v1/namespaces`, {
    name,
    description: "benchmark namespace",
    owners: ["bench"],
    variables: NAMESPACE_VARIABLES,
  });
  await http("PUT", `${registryUrl}/v1/namespaces/${name}/layers/base`, baseDocument(name));
  await http("PUT", `${registryUrl}/v1/namespaces/${name}/layers/production`, overlayDocument(name, 0));
}

async function cleanup(res: Resources): Promise<void> {
  await res.load?.stop().catch(() => undefined);
  for (const s of res.servers.splice(0)) await s.close().catch(() => undefined);
  if (res.registry) {
    await res.registry.app.close().catch(() => undefined);
    await res.registry.workers.stop().catch(() => undefined);
  }
  const results = await Promise.allSettled([
    res.db?.drop(),
    res.bus?.cleanup(),
    res.redis?.cleanup(),
    res.baselineNats?.cleanup(),
  ]);
  if (res.logFd !== undefined) closeSync(res.logFd);
  for (const r of results) if (r.status === "rejected") log(`cleanup failed: ${String(r.reason)}`);
}

// ---------------------------------------------------------------------------------------------
// Phases

interface Row {
  metric: string;
  nexus: number;
  baseline: number;
  unit: string;
  /** ratio = nexus / baseline; for latencies, higher is worse. */
  higherIsBetter: boolean;
  target?: { text: string; met: boolean };
}

const fmt = (n: number, unit: string) =>
  Number.isNaN(n)
    ? "n/a"
    : unit === "ms"
      ? n < 10
        ? n.toFixed(2)
        : n.toFixed(1)
      : n >= 100
        ? Math.round(n).toLocaleString("en-US")
        : n.toFixed(1);

/** Run a job and measure the CPU this (server) process used meanwhile. */
async function measured<R>(fn: () => Promise<R>): Promise<{ result: R; serverCpu: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await fn();
  return { result, serverCpu: cpuShare(cpu, performance.now() - started) };
}

function assertReadClean(name: string, r: ReadResult): void {
  if (r.non2xx || r.errors || r.timeouts || r.ok === 0) {
    throw new Error(
      `${name}: ${r.ok} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts: the run is not valid`,
    );
  }
}

async function readPhase(res: Resources, registryUrl: string): Promise<Row[]> {
  const path = `/v1/namespaces/${READ_NAMESPACE}/environments/${READ_ENVIRONMENT}/resolved`;
  const first = await fetch(`${registryUrl}${path}`);
  const body = await first.text();
  const contentType = first.headers.get("content-type") ?? "";
  if (first.status !== 200) throw new Error(`GET ${path} answered ${first.status}: ${body}`);
  const cacheKey = `resolved:${READ_NAMESPACE}:${READ_ENVIRONMENT}`;
  if ((await res.redis!.redis.ttl(cacheKey)) <= 0) throw new Error(`the resolved document is not cached (${cacheKey})`);

  const bare = await startBareRead(path, body, contentType);
  res.servers.push(bare);
  const check = await fetch(`${bare.url}${path}`);
  const bareBody = await check.text();
  if (bareBody !== body || check.headers.get("content-type") !== contentType) {
    throw new Error("the bare app does not answer the same bytes and content type as the registry");
  }
  log(
    `read: GET ${path} → ${Buffer.byteLength(body)} bytes, ${contentType}, served from the Redis cache` +
      ` (registry also sends ${[...first.headers.keys()].length} headers vs ${[...check.headers.keys()].length} bare)`,
  );

  const job = (url: string, seconds: number, warmupSeconds: number): Job => ({
    cmd: "read",
    url: `${url}${path}`,
    connections: CONNECTIONS,
    seconds,
    warmupSeconds,
  });
  log(`read: warming up both for ${WARMUP_SECONDS} s each, then ${SECONDS} s each, one after the other`);
  await res.load!.run(job(bare.url, WARMUP_SECONDS, 0));
  await res.load!.run(job(registryUrl, WARMUP_SECONDS, 0));
  const b = await measured(() => res.load!.run<ReadResult>(job(bare.url, SECONDS, 0)));
  assertReadClean("bare GET", b.result);
  const n = await measured(() => res.load!.run<ReadResult>(job(registryUrl, SECONDS, 0)));
  assertReadClean("registry GET", n.result);
  if ((await res.redis!.redis.ttl(cacheKey)) <= 0) throw new Error("the cache entry went away during the run");
  for (const [name, r] of [
    ["bare    ", b],
    ["registry", n],
  ] as const) {
    log(
      `read: ${name} ${fmt(r.result.reqPerSec, "/s")} req/s (${r.result.ok} in ${r.result.seconds} s), ` +
        `p50 ${fmt(r.result.p50, "ms")} ms, p99 ${fmt(r.result.p99, "ms")} ms; ` +
        `CPU: servers ${pct(r.serverCpu)}, load generator ${pct(r.result.loadCpu)} of one core`,
    );
  }
  const ratio = n.result.reqPerSec / b.result.reqPerSec;
  return [
    {
      metric: `cached GET req/s (${CONNECTIONS} conns)`,
      nexus: n.result.reqPerSec,
      baseline: b.result.reqPerSec,
      unit: "/s",
      higherIsBetter: true,
      target: { text: "≥ 50% of bare", met: ratio >= 0.5 },
    },
    {
      metric: "cached GET p50",
      nexus: n.result.p50,
      baseline: b.result.p50,
      unit: "ms",
      higherIsBetter: false,
    },
    {
      metric: "cached GET p99",
      nexus: n.result.p99,
      baseline: b.result.p99,
      unit: "ms",
      higherIsBetter: false,
    },
  ];
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

async function writePhase(res: Resources, registryUrl: string, baselineUrl: string, baselineSubject: string) {
  const nexusTargets = Array.from({ length: WRITERS }, (_, i) => `bench-w${i + 1}`);
  const baselineTargets = Array.from({ length: WRITERS }, (_, i) => `w${i + 1}`);
  const job = (kind: "nexus" | "baseline", inflight: number): WriteJob => ({
    cmd: "write",
    kind,
    baseUrl: kind === "nexus" ? registryUrl : baselineUrl,
    subject: kind === "nexus" ? `${res.bus!.prefix}.config.changed.>` : baselineSubject,
    targets: (kind === "nexus" ? nexusTargets : baselineTargets).slice(0, inflight),
    seconds: SECONDS,
    maxWrites: MAX_WRITES,
    warmupWrites: 200,
    eventTimeoutMs: 10_000,
  });
  const results: Record<string, { result: WriteResult; serverCpu: number }> = {};
  for (const inflight of [1, WRITERS]) {
    for (const kind of ["nexus", "baseline"] as const) {
      log(`write: ${kind}, ${inflight} in flight, ${SECONDS} s (after 200 warm-up writes)`);
      const r = await measured(() => res.load!.run<WriteResult>(job(kind, inflight)));
      results[`${kind}/${inflight}`] = r;
      log(
        `write: ${kind.padEnd(8)} ${inflight} in flight: ${r.result.writes} writes, event p50 ${fmt(r.result.eventP50, "ms")} / ` +
          `p99 ${fmt(r.result.eventP99, "ms")} / max ${fmt(r.result.eventMax, "ms")} ms, ` +
          `HTTP response p50 ${fmt(r.result.ackP50, "ms")} / p99 ${fmt(r.result.ackP99, "ms")} ms, ` +
          `${fmt(r.result.endToEndPerSec, "/s")} writes/s end to end (${fmt(r.result.ackedPerSec, "/s")} acknowledged/s); ` +
          `CPU: servers ${pct(r.serverCpu)}, load generator ${pct(r.result.loadCpu)} of one core`,
      );
    }
  }
  const get = (kind: string, inflight: number) => results[`${kind}/${inflight}`]!.result;
  const n1 = get("nexus", 1);
  const b1 = get("baseline", 1);
  const n8 = get("nexus", WRITERS);
  const b8 = get("baseline", WRITERS);
  const rows: Row[] = [
    { metric: "write→event p50, 1 in flight", nexus: n1.eventP50, baseline: b1.eventP50, unit: "ms", higherIsBetter: false },
    {
      metric: "write→event p99, 1 in flight",
      nexus: n1.eventP99,
      baseline: b1.eventP99,
      unit: "ms",
      higherIsBetter: false,
      target: { text: "≤ 10 ms", met: n1.eventP99 <= 10 },
    },
    {
      metric: `write→event p50, ${WRITERS} in flight`,
      nexus: n8.eventP50,
      baseline: b8.eventP50,
      unit: "ms",
      higherIsBetter: false,
    },
    {
      metric: `write→event p99, ${WRITERS} in flight`,
      nexus: n8.eventP99,
      baseline: b8.eventP99,
      unit: "ms",
      higherIsBetter: false,
    },
    {
      metric: "writes/s, 1 in flight",
      nexus: n1.endToEndPerSec,
      baseline: b1.endToEndPerSec,
      unit: "/s",
      higherIsBetter: true,
    },
    {
      metric: `writes/s, ${WRITERS} in flight`,
      nexus: n8.endToEndPerSec,
      baseline: b8.endToEndPerSec,
      unit: "/s",
      higherIsBetter: true,
      target: { text: "≥ 1,000/s", met: n8.endToEndPerSec >= 1_000 },
    },
  ];
  return rows;
}

function printTable(rows: Row[]): void {
  const header = ["metric", "nexus", "baseline", "ratio", "target", "met?"];
  const lines = rows.map((r) => {
    const unit = r.unit === "ms" ? " ms" : r.unit;
    return [
      r.metric,
      `${fmt(r.nexus, r.unit)}${unit}`,
      `${fmt(r.baseline, r.unit)}${unit}`,
      `${(r.nexus / r.baseline).toFixed(2)}×`,
      r.target?.text ?? "-",
      r.target ? (r.target.met ? "yes" : "no") : "-",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  log("");
  log(row(header));
  log(`|${widths.map((w, i) => (i === 0 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const l of lines) log(row(l));
  log("");
  log(
    "ratio = nexus / baseline: for req/s and writes/s higher is better (1.00× = as fast as the bare stack);" +
      " for latencies lower is better (2.00× = twice as slow).",
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  process.env.NEXUS_TEST_RUN_ID ??= `bench${randomBytes(3).toString("hex")}`;
  const res: Resources = { servers: [] };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${signal}: cleaning up`);
    void cleanup(res).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const watchdog = setTimeout(() => {
    log(`\nthe benchmark did not finish within ${WATCHDOG_MS / 1_000} s: cleaning up`);
    void cleanup(res).finally(() => process.exit(2));
  }, WATCHDOG_MS);
  watchdog.unref();

  try {
    const cores = availableParallelism();
    log(
      `Nexus benchmark, ${new Date().toISOString()}, node ${process.version}, ${cores} cores (${cpus()[0]?.model.trim()}), ` +
        `BENCH_SECONDS=${SECONDS}, registry log level ${LOG_LEVEL}`,
    );
    log(
      `The servers (registry and baselines) run in this process, the load generator in a child process: ` +
        `separate event loops, but they share the machine's ${cores} cores with each other and with Postgres, NATS and Redis.`,
    );
    const registryUrl = await startRegistry(res);
    for (const name of [READ_NAMESPACE, ...Array.from({ length: WRITERS }, (_, i) => `bench-w${i + 1}`)]) {
      await seedNamespace(registryUrl, name);
    }
    const baseline = await startBareWrite({ databaseUrl: res.db!.url, nats: res.baselineNats!, poolSize: 10 });
    res.servers.push(baseline);
    res.load = startLoadProcess();

    const rows = [...(await readPhase(res, registryUrl))];
    rows.push(...(await writePhase(res, registryUrl, baseline.url, baseline.subject)));
    printTable(rows);
    return 0;
  } catch (err) {
    log(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    if (!interrupted) await cleanup(res);
  }
}

// Exit explicitly: a keep-alive socket or timer left by a library must not keep the run alive.
process.exit(await main());
