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
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { type Harness, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import { type CpuReport, processCpuMs, since, snapshot } from "./cpu.js";
import {
  BARE_SUBJECT,
  type FromObserver,
  type FromWorker,
  type ToObserver,
  type ToWorker,
} from "./fanout-protocol.js";
import { summarize } from "./stats.js";

const CLIENTS = whole("BENCH_CLIENTS", 1_000);
const WORKERS = Math.min(whole("BENCH_WORKERS", 4), CLIENTS);
const WRITES = whole("BENCH_WRITES", 30);
/** Unmeasured writes first: the clients' code paths are cold (V8 tiers them up over the first few). */
const WARMUP = wholeOrZero("BENCH_WARMUP", 10);
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
function wholeOrZero(name: string, fallback: number): number {
  return process.env[name] === "0" ? 0 : whole(name, fallback);
}
const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

interface Child<Out> {
  child: ChildProcess;
  next(): Promise<Out>;
}
type Worker = Child<FromWorker>;

/** A forked helper process and the messages it sends, one `next()` at a time. */
function startChild<Out extends { type: string }>(file: string, profile: boolean): Child<Out> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    // BENCH_PROFILE=<dir> writes a V8 CPU profile of every worker there.
    execArgv: [
      "--import",
      "tsx",
      ...(profile && process.env.BENCH_PROFILE
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
        : []),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox: Out[] = [];
  const waiting: ((m: Out) => void)[] = [];
  child.on("message", (m: Out) => {
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  child.on("exit", (code) => {
    for (const w of waiting.splice(0))
      w({ type: "error", message: `${file} exited (${code})` } as unknown as Out);
  });
  return {
    child,
    next: () => {
      const m = inbox.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const startWorker = (): Worker => startChild<FromWorker>("./fanout-worker.ts", true);

/** The stopwatch process (fanout-observer.ts): when did the answers for one key arrive. */
async function startObserver(prefix: string) {
  const observer = startChild<FromObserver>("./fanout-observer.ts", false);
  observer.child.send({ type: "start", natsUrl: TEST_NATS_URL, prefix } satisfies ToObserver);
  const ready = await observer.next();
  if (ready.type !== "ready")
    throw new Error(`observer failed: ${ready.type === "error" ? ready.message : ready.type}`);
  return {
    /** Arrival times (epoch ms) of the first `n` answers for `key`. */
    async wait(key: string, n: number): Promise<number[]> {
      observer.child.send({ type: "wait", key, n, timeoutMs: ROUND_TIMEOUT_MS } satisfies ToObserver);
      const m = await observer.next();
      if (m.type !== "arrived") throw new Error(m.type === "error" ? m.message : `observer said ${m.type}`);
      return m.times;
    },
    stop() {
      observer.child.send({ type: "stop" } satisfies ToObserver);
    },
  };
}

/** Now, in the observer's clock (epoch ms). */
const epochNow = () => performance.timeOrigin + performance.now();

async function startFleet(
  h: Harness,
  url: string,
  mode: "sdk" | "bare",
  readerToken: string,
): Promise<Worker[]> {
  const workers = Array.from({ length: WORKERS }, () => startWorker());
  workers.forEach((w, i) => {
    const clients = Math.floor(CLIENTS / WORKERS) + (i < CLIENTS % WORKERS ? 1 : 0);
    w.child.send({
      type: "start",
      mode,
      clients,
      worker: i,
      registryUrl: url,
      token: readerToken,
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

/** CPU ms used so far by this process (the registry) and by the worker processes (the clients). */
function partyCpu(workers: Worker[]): { registry: number; clients: number } {
  const u = process.cpuUsage();
  const clients = workers.reduce((sum, w) => sum + (processCpuMs(w.child.pid ?? -1) ?? 0), 0);
  return { registry: (u.user + u.system) / 1_000, clients };
}

/** Shares of one core of the servers, and how busy the whole machine was (the benchmark included). */
function cpuLine(report: CpuReport): string {
  const pct = (x: number | undefined) => (x === undefined ? "n/a" : `${Math.round(x * 100)}%`);
  const s = report.servers;
  return `postgres ${pct(s.postgres)}, redis ${pct(s["redis-server"])}, nats ${pct(s["nats-server"])}; machine busy ${pct(report.machine)} of all cores (this benchmark's processes included)`;
}

function perWrite(before: ReturnType<typeof partyCpu>, after: ReturnType<typeof partyCpu>): string {
  const registry = (after.registry - before.registry) / WRITES;
  const clients = (after.clients - before.clients) / WRITES;
  return `bench process (registry, writer) ${ms(registry)}, worker processes ${ms(clients)} (${((clients / CLIENTS) * 1_000).toFixed(0)} µs per client)`;
}

async function main(): Promise<void> {
  log(
    `fan-out: ${CLIENTS} clients, ${WORKERS} worker processes, ${WRITES} writes after ${WARMUP} unmeasured, NATS ${SHARED_NATS ? "one connection per process" : "one connection per client"}, reads over ${READ}`,
  );
  const h = await startRegistry();
  const url = await h.registry.app.listen({ port: 0, host: "127.0.0.1" });
  const put = async (content: unknown) => {
    const res = await fetch(`${url}/v1/namespaces/${NAMESPACE}/layers/${ENVIRONMENT}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${h.adminToken}` },
      body: JSON.stringify(content),
    });
    if (res.status !== 200) throw new Error(`write failed: ${res.status} ${await res.text()}`);
    const at = epochNow();
    const resolved = await fetch(`${url}/v1/namespaces/${NAMESPACE}/environments/${ENVIRONMENT}/resolved`, {
      headers: { authorization: `Bearer ${h.adminToken}` },
    });
    const { hash } = (await resolved.json()) as { hash: string };
    return { at, hash };
  };
  let workers: Worker[] = [];
  let observer: Awaited<ReturnType<typeof startObserver>> | undefined;
  try {
    const created = await h.registry.app.inject({
      method: "POST",
      url: "/v1/namespaces",
      headers: { authorization: `Bearer ${h.adminToken}` },
      payload: { name: NAMESPACE },
    });
    if (created.statusCode !== 201)
      throw new Error(`namespace not created: ${created.statusCode} ${created.body}`);
    await put({ service: { replicas: 3, timeoutMs: 1_000 }, round: 0 });

    observer = await startObserver(h.nats.prefix);
    const answers = observer;
    // Baseline: bare core fan-out, same process layout.
    // The clients read with a viewer token of their own namespace, as a consuming service would.
    const readerToken = await h.tokenFor([`viewer:${NAMESPACE}:${ENVIRONMENT}`], { name: "fanout-reader" });
    workers = await startFleet(h, url, "bare", readerToken);
    const bareLast: number[] = [];
    const bareAll: number[] = [];
    let bareCpu = snapshot();
    let bareParty = partyCpu(workers);
    for (let i = 1 - WARMUP; i <= WRITES; i++) {
      const at = epochNow();
      h.nats.nc.publish(BARE_SUBJECT(h.nats.prefix), String(i));
      const times = await answers.wait(String(i), CLIENTS);
      if (i < 1) {
        await new Promise((r) => setTimeout(r, 50));
        bareCpu = snapshot();
        bareParty = partyCpu(workers);
        continue;
      }
      bareLast.push(Math.max(...times) - at);
      for (const t of times) bareAll.push(t - at);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bareCpuReport = since(bareCpu);
    const bareSpent = perWrite(bareParty, partyCpu(workers));
    await stopFleet(workers);

    // Nexus: SDK clients; a write, then every client's applied-ack for its hash.
    workers = await startFleet(h, url, "sdk", readerToken);
    const sdkLast: number[] = [];
    const sdkAll: number[] = [];
    let sdkCpu = snapshot();
    let sdkParty = partyCpu(workers);
    for (let i = 1 - WARMUP; i <= WRITES; i++) {
      const { at, hash } = await put({ service: { replicas: 3, timeoutMs: 1_000 + i }, round: i });
      const times = await answers.wait(hash, CLIENTS);
      if (i < 1) {
        await new Promise((r) => setTimeout(r, 50));
        sdkCpu = snapshot();
        sdkParty = partyCpu(workers);
        continue;
      }
      sdkLast.push(Math.max(...times) - at);
      if (process.env.BENCH_SERIES) {
        const sorted = [...times].sort((a, b) => a - b);
        const after = (q: number) => ms(sorted[Math.floor(q * (sorted.length - 1))]! - at);
        const [announced] = await answers.wait(`changed:${hash}`, 1);
        log(
          `write ${i}: config.changed after ${ms(announced! - at)}; acks after ${after(0)} (first), ${after(0.5)} (half), ${after(1)} (last)`,
        );
      }
      for (const t of times) sdkAll.push(t - at);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sdkCpuReport = since(sdkCpu);
    const sdkSpent = perWrite(sdkParty, partyCpu(workers));
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
    log(`      CPU per write: ${bareSpent}`);
    const n = row("nexus ", sdkLast, sdkAll);
    log(`      CPU: ${cpuLine(sdkCpuReport)}`);
    log(`      CPU per write: ${sdkSpent}`);
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
    observer?.stop();
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
