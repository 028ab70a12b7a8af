/**
 * Fan-out benchmark of @nexus/client: N SDK clients in several processes watch one namespace;
 * each write's clock starts at its HTTP 2xx and stops when the last client's `config.applied`
 * ack (with the write's hash) reaches a NATS subscriber. Printed next to a same-run baseline: the
 * same processes with N bare core subscriptions that answer a core message at once (the NATS
 * fan-out floor on this machine, without HTTP reads, JetStream or any Nexus code).
 *
 *   pnpm exec tsx test/bench/fanout.ts          # BENCH_CLIENTS=1000 BENCH_WORKERS=4 BENCH_WRITES=30
 *
 * See test/bench/README.md, "(c) Fan-out".
 */
import { type ChildProcess, fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { CloudEvent, ConfigApplied } from "@nexus/contracts";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { type Harness, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import { type CpuReport, since, snapshot } from "./cpu.js";
import { BARE_ACK_SUBJECT, BARE_SUBJECT, type FromWorker, type ToWorker } from "./fanout-protocol.js";
import { summarize } from "./stats.js";

const CLIENTS = whole("BENCH_CLIENTS", 1_000);
const WORKERS = Math.min(whole("BENCH_WORKERS", 4), CLIENTS);
const WRITES = whole("BENCH_WRITES", 30);
const SHARED_NATS = process.env.BENCH_SHARED_NATS === "1";
const READ: "http" | "nats" = process.env.BENCH_READ === "nats" ? "nats" : "http";
const ROUND_TIMEOUT_MS = 15_000;
const NAMESPACE = "fanout";
const ENVIRONMENT = "production";
const TARGET_P99_MS = 250;

function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}
const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

interface Worker {
  child: ChildProcess;
  next(): Promise<FromWorker>;
}

function startWorker(): Worker {
  const child = fork(fileURLToPath(new URL("./fanout-worker.ts", import.meta.url)), [], {
    // BENCH_PROFILE=<dir> writes a V8 CPU profile of every worker there.
    execArgv: [
      "--import",
      "tsx",
      ...(process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox: FromWorker[] = [];
  const waiting: ((m: FromWorker) => void)[] = [];
  child.on("message", (m: FromWorker) => {
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  child.on("exit", (code) => {
    for (const w of waiting.splice(0)) w({ type: "error", message: `worker exited (${code})` });
  });
  return {
    child,
    next: () => {
      const m = inbox.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

async function startFleet(h: Harness, url: string, mode: "sdk" | "bare"): Promise<Worker[]> {
  const workers = Array.from({ length: WORKERS }, () => startWorker());
  workers.forEach((w, i) => {
    const clients = Math.floor(CLIENTS / WORKERS) + (i < CLIENTS % WORKERS ? 1 : 0);
    w.child.send({
      type: "start",
      mode,
      clients,
      worker: i,
      registryUrl: url,
      natsUrl: TEST_NATS_URL,
      prefix: h.nats.prefix,
      namespace: NAMESPACE,
      environment: ENVIRONMENT,
      sharedNats: SHARED_NATS,
      read: READ,
    } satisfies ToWorker);
  });
  const started = performance.now();
  for (const w of workers) {
    const m = await w.next();
    if (m.type !== "ready")
      throw new Error(`worker failed to start: ${m.type === "error" ? m.message : m.type}`);
  }
  log(`${mode}: ${CLIENTS} clients in ${WORKERS} processes ready in ${ms(performance.now() - started)}`);
  return workers;
}

async function stopFleet(workers: Worker[]): Promise<void> {
  for (const w of workers) w.child.send({ type: "stop" } satisfies ToWorker);
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.child.exitCode !== null) return resolve();
          const timer = setTimeout(() => w.child.kill("SIGKILL"), 10_000);
          w.child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
}

/** Counts messages per key; resolves when `expected` arrived for `key`, with each arrival's time. */
function arrivals() {
  const seen = new Map<string, number[]>();
  let wanted: { key: string; n: number; resolve: (times: number[]) => void } | undefined;
  return {
    add(key: string) {
      const times = seen.get(key) ?? [];
      times.push(performance.now());
      seen.set(key, times);
      if (wanted && wanted.key === key && times.length >= wanted.n) wanted.resolve(times);
    },
    wait(key: string, n: number): Promise<number[]> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${seen.get(key)?.length ?? 0} of ${n} arrived for ${key}`)),
          ROUND_TIMEOUT_MS,
        );
        wanted = {
          key,
          n,
          resolve: (t) => {
            clearTimeout(timer);
            resolve(t);
          },
        };
        const have = seen.get(key);
        if (have && have.length >= n) wanted.resolve(have);
      });
    },
  };
}

/** Shares of one core of the servers, and how busy the whole machine was (the benchmark included). */
function cpuLine(report: CpuReport): string {
  const pct = (x: number | undefined) => (x === undefined ? "n/a" : `${Math.round(x * 100)}%`);
  const s = report.servers;
  return `postgres ${pct(s.postgres)}, redis ${pct(s["redis-server"])}, nats ${pct(s["nats-server"])}; machine busy ${pct(report.machine)} of all cores (this benchmark's processes included)`;
}

async function main(): Promise<void> {
  log(
    `fan-out: ${CLIENTS} clients, ${WORKERS} worker processes, ${WRITES} writes, NATS ${SHARED_NATS ? "one connection per process" : "one connection per client"}, reads over ${READ}`,
  );
  const h = await startRegistry();
  const url = await h.registry.app.listen({ port: 0, host: "127.0.0.1" });
  const put = async (content: unknown) => {
    const res = await fetch(`${url}/v1/namespaces/${NAMESPACE}/layers/${ENVIRONMENT}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(content),
    });
    if (res.status !== 200) throw new Error(`write failed: ${res.status} ${await res.text()}`);
    const at = performance.now();
    const resolved = await fetch(`${url}/v1/namespaces/${NAMESPACE}/environments/${ENVIRONMENT}/resolved`);
    const { hash } = (await resolved.json()) as { hash: string };
    return { at, hash };
  };
  let workers: Worker[] = [];
  try {
    await h.registry.app.inject({ method: "POST", url: "/v1/namespaces", payload: { name: NAMESPACE } });
    await put({ service: { replicas: 3, timeoutMs: 1_000 }, round: 0 });

    // Baseline: bare core fan-out, same process layout.
    const bare = arrivals();
    h.nats.nc.subscribe(BARE_ACK_SUBJECT(h.nats.prefix), {
      callback: (_e, m) => bare.add((JSON.parse(m.string()) as { seq: string }).seq),
    });
    workers = await startFleet(h, url, "bare");
    const bareLast: number[] = [];
    const bareAll: number[] = [];
    const bareCpu = snapshot();
    for (let i = 0; i < WRITES; i++) {
      const at = performance.now();
      h.nats.nc.publish(BARE_SUBJECT(h.nats.prefix), String(i));
      const times = await bare.wait(String(i), CLIENTS);
      bareLast.push(Math.max(...times) - at);
      for (const t of times) bareAll.push(t - at);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bareCpuReport = since(bareCpu);
    await stopFleet(workers);

    // Nexus: SDK clients; a write, then every client's applied-ack for its hash.
    const acks = arrivals();
    h.nats.nc.subscribe(`${h.nats.prefix}.config.applied.${ENVIRONMENT}.${NAMESPACE}`, {
      callback: (_e, m) => {
        const data = (JSON.parse(m.string()) as CloudEvent<ConfigApplied>).data;
        if (data.status === "applied") acks.add(data.hash);
      },
    });
    workers = await startFleet(h, url, "sdk");
    const sdkLast: number[] = [];
    const sdkAll: number[] = [];
    const sdkCpu = snapshot();
    for (let i = 1; i <= WRITES; i++) {
      const { at, hash } = await put({ service: { replicas: 3, timeoutMs: 1_000 + i }, round: i });
      const times = await acks.wait(hash, CLIENTS);
      sdkLast.push(Math.max(...times) - at);
      for (const t of times) sdkAll.push(t - at);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sdkCpuReport = since(sdkCpu);
    await stopFleet(workers);
    workers = [];

    const row = (name: string, last: number[], all: number[]) => {
      const l = summarize([Float64Array.from(last)]);
      const a = summarize([Float64Array.from(all)]);
      log(
        `${name}: last client p50 ${ms(l.p50)} / p99 ${ms(l.p99)} / max ${ms(l.max)}; every client p50 ${ms(a.p50)} / p99 ${ms(a.p99)}`,
      );
      return l;
    };
    const b = row("bare  ", bareLast, bareAll);
    log(`      CPU: ${cpuLine(bareCpuReport)}`);
    const n = row("nexus ", sdkLast, sdkAll);
    log(`      CPU: ${cpuLine(sdkCpuReport)}`);
    log("");
    log("| metric | nexus | bare fan-out | ratio | target | met? |");
    log("|:--|--:|--:|--:|--:|--:|");
    log(
      `| write 2xx → last of ${CLIENTS} acks, p50 | ${ms(n.p50)} | ${ms(b.p50)} | ${(n.p50 / b.p50).toFixed(1)}× | - | - |`,
    );
    log(
      `| write 2xx → last of ${CLIENTS} acks, p99 | ${ms(n.p99)} | ${ms(b.p99)} | ${(n.p99 / b.p99).toFixed(1)}× | ≤ ${TARGET_P99_MS} ms | ${n.p99 <= TARGET_P99_MS ? "yes" : "no"} |`,
    );
  } finally {
    if (workers.length) await stopFleet(workers);
    await h.registry.app.close();
    await h.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
