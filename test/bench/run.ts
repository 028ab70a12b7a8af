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
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import { type Listening, startBareRead, startBareRedisRead, startBareWrite } from "./baseline.js";
import { CpuTally, since, snapshot } from "./cpu.js";
import { baseDocument, NAMESPACE_VARIABLES, overlayDocument } from "./documents.js";
import type { FromChild, Job, ReadSlice, ToChild, WriteJob, WriteKind, WriteSlice } from "./protocol.js";
import { cpuShare, summarize } from "./stats.js";

const SECONDS = Math.min(positive("BENCH_SECONDS", 5), 120);
const CONNECTIONS = Math.max(1, Math.floor(positive("BENCH_CONNECTIONS", 10)));
const WRITERS = Math.max(1, Math.floor(positive("BENCH_WRITERS", 8)));
/** Hard cap per write phase, so a fast machine still sends a bounded number of requests. */
const MAX_WRITES = positive("BENCH_MAX_WRITES", 50_000);
/** `silent` (default, like the tests) or e.g. `info` to include the per-request log line (to /dev/null). */
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "silent";
const WARMUP_SECONDS = Math.min(2, Math.max(1, SECONDS / 5));
const WARMUP_WRITES = 200;
/** `read` or `write` runs one half only (the table then has only its rows). */
const ONLY = process.env.BENCH_ONLY ?? "";
if (!["", "read", "write"].includes(ONLY))
  throw new Error(`BENCH_ONLY must be "read" or "write", got "${ONLY}"`);
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
    // Structured clone over IPC: latency samples travel as Float64Arrays, not JSON.
    serialization: "advanced",
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

/** The registry's bearer token, once it runs; every request carries it (baselines ignore it). */
let AUTH: Record<string, string> = {};

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
    auth: { tokenKey: randomBytes(32) },
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
  const { token } = await registry.services.tokens.create({ name: "bench", grants: ["admin"] }, "bench");
  AUTH = { authorization: `Bearer ${token}` };
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
      ? { headers: { ...AUTH, "content-type": "application/json" }, body: JSON.stringify(body) }
      : { headers: AUTH }),
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

/** One slice of a measurement, and who used the CPU meanwhile. */
async function slice<R extends { loadCpu: number }>(res: Resources, job: Job, tally: CpuTally): Promise<R> {
  const cpu = process.cpuUsage();
  const machine = snapshot();
  const started = performance.now();
  const result = await res.load!.run<R>(job);
  const wall = performance.now() - started;
  tally.add(wall, cpuShare(cpu, wall), result.loadCpu, since(machine));
  return result;
}

/** Rounds of interleaved slices: every measurement gets SECONDS in all, in ROUNDS slices. */
const ROUNDS = Math.max(1, Math.min(Math.floor(positive("BENCH_ROUNDS", 5)), Math.floor(SECONDS)));
const SLICE_SECONDS = SECONDS / ROUNDS;
/** Each round starts with a different one, so none is always first (or always after another). */
const rotated = <T>(items: readonly T[], round: number) =>
  items.map((_, i) => items[(i + round) % items.length]!);

function noiseNote(name: string, tally: CpuTally): void {
  const other = tally.other();
  if (other !== undefined && other > 0.35) {
    log(
      `      note: other processes kept ${Math.round(other * 100)}% of a core busy during ${name}: ` +
        "its absolute figures are noisy (the interleaved slices keep the ratios fairer); run again on a quiet machine",
    );
  }
}

interface ReadTotals {
  ok: number;
  seconds: number;
  latencies: Float64Array[];
  tally: CpuTally;
}

async function readPhase(res: Resources, registryUrl: string): Promise<Row[]> {
  const path = `/v1/namespaces/${READ_NAMESPACE}/environments/${READ_ENVIRONMENT}/resolved`;
  const first = await fetch(`${registryUrl}${path}`, { headers: AUTH });
  const body = await first.text();
  const contentType = first.headers.get("content-type") ?? "";
  if (first.status !== 200) throw new Error(`GET ${path} answered ${first.status}: ${body}`);
  const cacheKey = `resolved:${READ_NAMESPACE}:${READ_ENVIRONMENT}`;
  if ((await res.redis!.redis.ttl(cacheKey)) <= 0)
    throw new Error(`the resolved document is not cached (${cacheKey})`);

  const bare = await startBareRead(path, body, contentType);
  res.servers.push(bare);
  const bareRedis = await startBareRedisRead(path, body, contentType, {
    url: res.redis!.url,
    keyPrefix: res.redis!.keyPrefix,
  });
  res.servers.push(bareRedis);
  let bareHeaders = 0;
  for (const server of [bare, bareRedis]) {
    const check = await fetch(`${server.url}${path}`, { headers: AUTH });
    if ((await check.text()) !== body || check.headers.get("content-type") !== contentType) {
      throw new Error("a baseline app does not answer the same bytes and content type as the registry");
    }
    bareHeaders = [...check.headers.keys()].length;
  }
  log(
    `read: GET ${path} → ${Buffer.byteLength(body)} bytes, ${contentType}, from the registry's Redis cache; ` +
      `the registry sends ${[...first.headers.keys()].length} response headers, the bare app ${bareHeaders}`,
  );

  const targets = [
    { name: "bare fastify", url: bare.url },
    { name: "bare + Redis GET", url: bareRedis.url },
    { name: "registry", url: registryUrl },
  ] as const;
  const job = (url: string, seconds: number): Job => ({
    cmd: "read",
    headers: AUTH,
    url: `${url}${path}`,
    connections: CONNECTIONS,
    seconds,
  });
  log(
    `read: ${CONNECTIONS} connections; each warmed up for ${WARMUP_SECONDS} s, then ${SECONDS} s each ` +
      `in ${ROUNDS} interleaved slices of ${SLICE_SECONDS} s (never two at once)`,
  );
  const warmup = new CpuTally();
  for (const t of targets) await slice(res, job(t.url, WARMUP_SECONDS), warmup);
  const totals = new Map<string, ReadTotals>(
    targets.map((t) => [t.name, { ok: 0, seconds: 0, latencies: [], tally: new CpuTally() }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of rotated(targets, round)) {
      const total = totals.get(t.name)!;
      const r = await slice<ReadSlice>(res, job(t.url, SLICE_SECONDS), total.tally);
      if (r.non2xx || r.errors || r.timeouts || r.ok === 0) {
        throw new Error(
          `GET ${t.name}: ${r.ok} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts: the run is not valid`,
        );
      }
      total.ok += r.ok;
      total.seconds += r.seconds;
      total.latencies.push(r.latencies);
    }
  }
  if ((await res.redis!.redis.ttl(cacheKey)) <= 0)
    throw new Error("the cache entry went away during the run");

  const figures = new Map<string, { reqPerSec: number; p50: number; p99: number }>();
  for (const t of targets) {
    const total = totals.get(t.name)!;
    const { p50, p99 } = summarize(total.latencies);
    const reqPerSec = total.ok / total.seconds;
    figures.set(t.name, { reqPerSec, p50, p99 });
    log(
      `read: ${t.name.padEnd(16)} ${fmt(reqPerSec, "/s")} req/s (${total.ok} in ${total.seconds.toFixed(1)} s), ` +
        `p50 ${fmt(p50, "ms")} ms, p99 ${fmt(p99, "ms")} ms`,
    );
    log(`      CPU (share of one core): ${total.tally.line()}`);
    noiseNote(t.name, total.tally);
  }
  const b = figures.get("bare fastify")!;
  const br = figures.get("bare + Redis GET")!;
  const n = figures.get("registry")!;
  return [
    {
      metric: `cached GET req/s (${CONNECTIONS} conns)`,
      nexus: n.reqPerSec,
      baseline: b.reqPerSec,
      unit: "/s",
      target: { text: "≥ 50% of bare", met: n.reqPerSec / b.reqPerSec >= 0.5 },
    },
    { metric: "cached GET p50", nexus: n.p50, baseline: b.p50, unit: "ms" },
    { metric: "cached GET p99", nexus: n.p99, baseline: b.p99, unit: "ms" },
    { metric: "cached GET req/s vs bare+Redis GET", nexus: n.reqPerSec, baseline: br.reqPerSec, unit: "/s" },
  ];
}

interface WriteFigures {
  writes: number;
  eventP50: number;
  eventP99: number;
  eventMax: number;
  ackP50: number;
  ackP99: number;
  /** Writes whose event arrived, per second of (first send → last event), summed over slices. */
  endToEndPerSec: number;
  /** Acknowledged writes per second of sending. */
  ackedPerSec: number;
}

async function writePhase(
  res: Resources,
  registryUrl: string,
  baselineUrl: string,
  baselineSubject: string,
): Promise<Row[]> {
  const kinds = ["nexus", "baseline"] as const;
  const job = (kind: WriteKind, inflight: number, seconds: number, warmupWrites: number): WriteJob => ({
    cmd: "write",
    headers: AUTH,
    kind,
    baseUrl: kind === "nexus" ? registryUrl : baselineUrl,
    subject: kind === "nexus" ? `${res.bus!.prefix}.config.changed.>` : baselineSubject,
    targets: Array.from({ length: inflight }, (_, i) => (kind === "nexus" ? `bench-w${i + 1}` : `w${i + 1}`)),
    seconds,
    maxWrites: Math.ceil(MAX_WRITES / ROUNDS),
    warmupWrites,
    eventTimeoutMs: 10_000,
  });
  const figures = new Map<string, WriteFigures>();
  for (const inflight of [1, WRITERS]) {
    log(
      `write: ${inflight} in flight; each chain warmed up with ${WARMUP_WRITES} writes, then ${SECONDS} s each ` +
        `in ${ROUNDS} interleaved slices of ${SLICE_SECONDS} s`,
    );
    const tallies = new Map(kinds.map((k) => [k, new CpuTally()]));
    const slices = new Map<WriteKind, WriteSlice[]>(kinds.map((k) => [k, []]));
    for (const kind of kinds) await slice(res, job(kind, inflight, 0, WARMUP_WRITES), new CpuTally());
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of rotated(kinds, round)) {
        slices
          .get(kind)!
          .push(await slice<WriteSlice>(res, job(kind, inflight, SLICE_SECONDS, 0), tallies.get(kind)!));
      }
    }
    for (const kind of kinds) {
      const parts = slices.get(kind)!;
      const events = summarize(parts.map((p) => p.eventMs));
      const acks = summarize(parts.map((p) => p.ackMs));
      if (events.n === 0) throw new Error(`${kind}: no write completed`);
      const activeS = parts.reduce((a, p) => a + p.activeMs, 0) / 1_000;
      const sendingS = parts.reduce((a, p) => a + p.sendingMs, 0) / 1_000;
      const f: WriteFigures = {
        writes: events.n,
        eventP50: events.p50,
        eventP99: events.p99,
        eventMax: events.max,
        ackP50: acks.p50,
        ackP99: acks.p99,
        endToEndPerSec: events.n / activeS,
        ackedPerSec: acks.n / sendingS,
      };
      figures.set(`${kind}/${inflight}`, f);
      log(
        `write: ${kind.padEnd(8)} ${inflight} in flight: ${f.writes} writes, write→event p50 ${fmt(f.eventP50, "ms")} / ` +
          `p99 ${fmt(f.eventP99, "ms")} / max ${fmt(f.eventMax, "ms")} ms, ` +
          `write→HTTP response p50 ${fmt(f.ackP50, "ms")} / p99 ${fmt(f.ackP99, "ms")} ms, ` +
          `${fmt(f.endToEndPerSec, "/s")} writes/s end to end (${fmt(f.ackedPerSec, "/s")} acknowledged/s)`,
      );
      log(`      CPU (share of one core): ${tallies.get(kind)!.line()}`);
      noiseNote(`${kind} at ${inflight} in flight`, tallies.get(kind)!);
    }
  }
  const get = (kind: WriteKind, inflight: number) => figures.get(`${kind}/${inflight}`)!;
  const [n1, b1, n8, b8] = [
    get("nexus", 1),
    get("baseline", 1),
    get("nexus", WRITERS),
    get("baseline", WRITERS),
  ];
  return [
    { metric: "write→event p50, 1 in flight", nexus: n1.eventP50, baseline: b1.eventP50, unit: "ms" },
    {
      metric: "write→event p99, 1 in flight",
      nexus: n1.eventP99,
      baseline: b1.eventP99,
      unit: "ms",
      target: { text: "≤ 10 ms", met: n1.eventP99 <= 10 },
    },
    {
      metric: `write→event p50, ${WRITERS} in flight`,
      nexus: n8.eventP50,
      baseline: b8.eventP50,
      unit: "ms",
    },
    {
      metric: `write→event p99, ${WRITERS} in flight`,
      nexus: n8.eventP99,
      baseline: b8.eventP99,
      unit: "ms",
    },
    { metric: "writes/s, 1 in flight", nexus: n1.endToEndPerSec, baseline: b1.endToEndPerSec, unit: "/s" },
    {
      metric: `writes/s, ${WRITERS} in flight`,
      nexus: n8.endToEndPerSec,
      baseline: b8.endToEndPerSec,
      unit: "/s",
      target: { text: "≥ 1,000/s", met: n8.endToEndPerSec >= 1_000 },
    },
  ];
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
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
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

let abandonCode: number | undefined;

async function main(): Promise<number> {
  process.env.NEXUS_TEST_RUN_ID ??= `bench${randomBytes(3).toString("hex")}`;
  const res: Resources = { servers: [] };
  // However the run ends, what it created goes, once; an interrupted run exits with its own code.
  let cleaning: Promise<void> | undefined;
  const cleanOnce = () => {
    cleaning ??= cleanup(res);
    return cleaning;
  };
  const abandon = (why: string, code: number) => {
    if (abandonCode !== undefined) return;
    abandonCode = code;
    log(`\n${why}: cleaning up`);
    void cleanOnce().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => abandon("SIGINT", 130));
  process.once("SIGTERM", () => abandon("SIGTERM", 143));
  process.on("uncaughtException", (err) => abandon(`uncaught exception: ${err.stack ?? err.message}`, 1));
  process.on("unhandledRejection", (err) => abandon(`unhandled rejection: ${String(err)}`, 1));
  // Output piped into something that closes early (`| head`) must not stop the clean-up.
  process.stdout.on("error", () => undefined);
  const watchdog = setTimeout(
    () => abandon(`the benchmark did not finish within ${WATCHDOG_MS / 1_000} s`, 2),
    WATCHDOG_MS,
  );
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
    const baseline = await startBareWrite({
      databaseUrl: res.db!.url,
      nats: res.baselineNats!,
      poolSize: 10,
    });
    res.servers.push(baseline);
    res.load = startLoadProcess();

    const rows: Row[] = [];
    if (ONLY !== "write") rows.push(...(await readPhase(res, registryUrl)));
    if (ONLY !== "read") rows.push(...(await writePhase(res, registryUrl, baseline.url, baseline.subject)));
    printTable(rows);
    return 0;
  } catch (err) {
    if (abandonCode !== undefined) return abandonCode; // interrupted: already said why
    log(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await cleanOnce();
  }
}

// Exit explicitly: a keep-alive socket or timer left by a library must not keep the run alive.
const code = await main();
process.exit(abandonCode ?? code);
