/**
 * Nexus system benchmark: every service as scripts/up.sh starts it (separate processes, built
 * dist/, default log level), measured beside the bare chain in the same run. `pnpm bench:system`;
 * BENCH_ONLY=throughput or curves runs one part. See test/bench/README.md, "(j)".
 *
 * Exits 0 when the run completed, whatever the figures; non-zero when it is not valid (a non-2xx
 * answer, a missing event or ack, a service that does not start).
 */
import { type ChildProcess, execFile, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  createTestDatabase,
  createTestNats,
  createTestRedis,
  type TestDatabase,
  type TestNats,
  type TestRedis,
  testConfig,
} from "@nexus/test-fixtures";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../../services/config-registry/test/integration/harness.js";
import { type Listening, startBareWrite } from "../baseline.js";
import { auth, type LoadProcess, seedNamespace, startLoadProcess } from "../run-resources.js";
import { checkOnly, log, ONLY, SECONDS, WRITERS } from "../run-settings.js";
import { printTable } from "../table.js";
import type { ConsumerJob, FromConsumer } from "./consumer.js";
import { curvesPhase } from "./curves.js";
import { type System, startSystem } from "./services.js";
import {
  type Chains,
  idlePhase,
  printCpuTable,
  printIdleTable,
  printSyscallTable,
  throughputPhase,
  writerNamespace,
} from "./throughput.js";

checkOnly(["throughput", "curves", "idle"]);
/** `BENCH_ONLY=idle`: how long the system sits with no writes while its CPU is counted. */
const IDLE_SECONDS = Math.min(Math.max(Number(process.env.BENCH_IDLE_SECONDS ?? 30) || 30, 1), 600);
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "info"; // up.sh's
/** A busy machine seeds 500 fan-in readers through the API slowly: the whole run may take ~30 min. */
const WATCHDOG_MS = (2_400 + SECONDS * 60) * 1_000;

interface Resources {
  db?: TestDatabase;
  nats?: TestNats;
  bareNats?: TestNats;
  redis?: TestRedis;
  workDir?: string;
  system?: System;
  children: ChildProcess[];
  servers: Listening[];
  load?: LoadProcess;
  consumer?: ChildProcess;
}

function startConsumer(res: Resources, job: ConsumerJob): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL("./consumer.ts", import.meta.url)), [], {
    // `BENCH_CONSUMER_NODE_ARGS`: extra node options for it, as `BENCH_SERVICE_NODE_ARGS` for the services.
    execArgv: [
      "--import",
      "tsx",
      ...(process.env.BENCH_CONSUMER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  res.consumer = child;
  return new Promise((resolve, reject) => {
    child.on("message", (m: FromConsumer) => {
      if (m.type === "ready") resolve(child);
      if (m.type === "error") reject(new Error(`consumer: ${m.message}`));
    });
    child.once("exit", (code) => reject(new Error(`consumer exited (${code})`)));
    child.send({ type: "start", job });
  });
}

async function stopConsumer(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (child.connected) child.send({ type: "stop" });
  else child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

async function cleanup(res: Resources): Promise<void> {
  await res.load?.stop().catch(() => undefined);
  await stopConsumer(res.consumer).catch(() => undefined);
  for (const s of res.servers.splice(0)) await s.close().catch(() => undefined);
  await res.system?.stop().catch(() => undefined);
  for (const child of res.children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  const steps = {
    database: res.db?.drop(),
    "NATS streams": res.nats?.cleanup(),
    "bare NATS stream": res.bareNats?.cleanup(),
    "Redis keys": res.redis?.cleanup(),
  };
  const results = await Promise.allSettled(Object.values(steps));
  if (res.workDir) rmSync(res.workDir, { recursive: true, force: true });
  for (const [i, r] of results.entries())
    if (r.status === "rejected") log(`cleanup of the ${Object.keys(steps)[i]} failed: ${String(r.reason)}`);
}

let abandonCode: number | undefined;

async function main(): Promise<number> {
  process.env.NEXUS_TEST_RUN_ID ??= `sysbench${randomBytes(3).toString("hex")}`;
  const res: Resources = { children: [], servers: [] };
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
  process.stdout.on("error", () => undefined);
  const watchdog = setTimeout(
    () => abandon(`the benchmark did not finish within ${WATCHDOG_MS / 1_000} s`, 2),
    WATCHDOG_MS,
  );
  watchdog.unref();

  try {
    const cores = availableParallelism();
    log(
      `Nexus system benchmark, ${new Date().toISOString()}, node ${process.version}, ${cores} cores ` +
        `(${cpus()[0]?.model.trim()}), load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}, BENCH_SECONDS=${SECONDS}, service log level ${LOG_LEVEL}`,
    );
    log("build: pnpm build (the services run from dist/, as up.sh runs them)");
    await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/lib/build.ts"], { cwd: ROOT });
    const [db, nats, bareNats, redis] = await Promise.all([
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      createTestNats(),
      createTestNats(),
      createTestRedis(),
    ]);
    Object.assign(res, { db, nats, bareNats, redis });
    res.workDir = mkdtempSync(join(tmpdir(), "nexus-system-bench-"));
    const system = await startSystem(
      {
        databaseUrl: db.url,
        natsPrefix: nats.prefix,
        redisKeyPrefix: redis.keyPrefix,
        natsUrl: testConfig.natsUrl,
        redisUrl: testConfig.redisUrl,
        workDir: res.workDir,
        logLevel: LOG_LEVEL,
      },
      res.children,
    );
    res.system = system;
    log(
      `services: ${[...system.services.values()].map((s) => `${s.name} pid ${s.child.pid}`).join(", ")}; ` +
        `database ${db.name}, NATS prefix ${nats.prefix}, logs in ${res.workDir}`,
    );
    auth.headers = { authorization: `Bearer ${system.token}` };
    const namespaces = Array.from({ length: WRITERS }, (_, i) => writerNamespace(i));
    for (const ns of namespaces) await seedNamespace(system.registryUrl, ns);

    const bare = await startBareWrite({ databaseUrl: db.url, nats: bareNats, poolSize: 10 });
    res.servers.push(bare);
    const consumer = await startConsumer(res, {
      registryUrl: system.registryUrl,
      token: system.token,
      natsUrl: testConfig.natsUrl,
      prefix: nats.prefix,
      namespaces,
      bareSubject: `${bareNats.prefix}.bench.written.>`,
      bareAckPrefix: `${bareNats.prefix}.bench.applied`,
    });
    res.load = startLoadProcess();

    const pids = new Map<string, number>();
    for (const s of system.services.values()) pids.set(s.name, s.child.pid!);
    const bench = "bench (bare server)";
    pids.set(bench, process.pid);
    pids.set("consumer (SDK / bare)", consumer.pid!);
    pids.set("load generator", res.load.pid!);
    const chains: Chains = {
      load: res.load,
      groups: { pids, database: db.name },
      headers: auth.headers,
      registryUrl: system.registryUrl,
      prefix: nats.prefix,
      bareUrl: bare.url,
      barePrefix: bareNats.prefix,
      bench,
      loadGroup: "load generator",
      consumer: "consumer (SDK / bare)",
    };
    log(
      `SDK: one @nexus/client instance per written namespace in a consumer process (HTTP reads, NATS push, acks); ` +
        `the bare chain's consumer answers each event with a core publish`,
    );

    if (ONLY === "idle") {
      // After the consumer and the load generator have started: what an installation pays doing nothing.
      printIdleTable(await idlePhase(chains, IDLE_SECONDS));
    } else if (ONLY !== "curves") {
      // Printed at once: a failure in the curves does not lose them.
      const { rows, cpuRows, syscallRows } = await throughputPhase(chains);
      printTable(rows);
      printCpuTable(cpuRows);
      printSyscallTable(syscallRows);
    }
    if (ONLY !== "throughput" && ONLY !== "idle") await curvesPhase(chains, db.pool, res.servers);
    log(
      `load average at the end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    return 0;
  } catch (err) {
    if (abandonCode !== undefined) return abandonCode;
    log(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await cleanOnce();
  }
}

const code = await main();
process.exit(abandonCode ?? code);
