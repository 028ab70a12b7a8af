/**
 * What the benchmark runs: the load generator (a child process), the registry in this process on
 * real Postgres / NATS / Redis with their own names, and the slices measurements are made of.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
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
import type { Listening } from "./baseline.js";
import { type CpuTally, since, snapshot } from "./cpu.js";
import { baseDocument, NAMESPACE_VARIABLES, overlayDocument } from "./documents.js";
import type { FromChild, Job, ToChild } from "./protocol.js";
import { LOG_LEVEL, log, positive, SECONDS } from "./run-settings.js";
import { cpuShare } from "./stats.js";

export interface LoadProcess {
  /** For its CPU time in /proc. */
  pid: number | undefined;
  run<R>(job: Job): Promise<R>;
  stop(): Promise<void>;
}

export function startLoadProcess(): LoadProcess {
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
    pid: child.pid,
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

export interface Resources {
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
export const auth: { headers: Record<string, string> } = { headers: {} };

export async function startRegistry(res: Resources): Promise<string> {
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
  auth.headers = { authorization: `Bearer ${token}` };
  await registry.workers.start();
  await registry.app.listen({ host: "127.0.0.1", port: 0 });
  const address = registry.app.server.address();
  if (!address || typeof address === "string") throw new Error("registry has no TCP address");
  return `http://127.0.0.1:${address.port}`;
}

export async function http(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method,
    ...(body !== undefined
      ? { headers: { ...auth.headers, "content-type": "application/json" }, body: JSON.stringify(body) }
      : { headers: auth.headers }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return { status: res.status, text };
}

export async function seedNamespace(registryUrl: string, name: string): Promise<void> {
  await http("POST", `${registryUrl}/v1/namespaces`, {
    name,
    description: "benchmark namespace",
    owners: ["bench"],
    variables: NAMESPACE_VARIABLES,
  });
  await http("PUT", `${registryUrl}/v1/namespaces/${name}/layers/base`, baseDocument(name));
  await http("PUT", `${registryUrl}/v1/namespaces/${name}/layers/production`, overlayDocument(name, 0));
}

export async function cleanup(res: Resources): Promise<void> {
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

export interface Row {
  metric: string;
  nexus: number;
  baseline: number;
  unit: string;
  target?: { text: string; met: boolean };
}

export const fmt = (n: number, unit: string) =>
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
export async function slice<R extends { loadCpu: number }>(
  res: Resources,
  job: Job,
  tally: CpuTally,
): Promise<R> {
  const cpu = process.cpuUsage();
  const machine = snapshot();
  const started = performance.now();
  const result = await res.load!.run<R>(job);
  const wall = performance.now() - started;
  tally.add(wall, cpuShare(cpu, wall), result.loadCpu, since(machine));
  return result;
}

/** Rounds of interleaved slices: every measurement gets SECONDS in all, in ROUNDS slices. */
export const ROUNDS = Math.max(1, Math.min(Math.floor(positive("BENCH_ROUNDS", 5)), Math.floor(SECONDS)));
export const SLICE_SECONDS = SECONDS / ROUNDS;
/** Each round starts with a different one, so none is always first (or always after another). */
export const rotated = <T>(items: readonly T[], round: number) =>
  items.map((_, i) => items[(i + round) % items.length]!);

export function noiseNote(name: string, tally: CpuTally): void {
  const other = tally.other();
  if (other !== undefined && other > 0.35) {
    log(
      `      note: other processes kept ${Math.round(other * 100)}% of a core busy during ${name}: ` +
        "its absolute figures are noisy (the interleaved slices keep the ratios fairer); run again on a quiet machine",
    );
  }
}
