/**
 * `BENCH_ONLY=fanin`: two curves of a single write, in this process, on the registry of `run.ts`.
 *
 * - Fan-in: a write to an upstream namespace that N others read through `${ref:…}`, for N = 0, 1,
 *   50, 200, 500 (`BENCH_FANIN_READERS`); per reader = (t(N) − t(0)) / N. Once with a change every
 *   reader sees (each gets a new head and one event per environment), once with a change none of
 *   them reads (nothing of theirs is stored, no event).
 * - Document size: a base write of 1 KiB … ~1 MiB to a namespace nobody reads, beside the bare
 *   chain of `baseline.ts` (Postgres INSERT + COMMIT, JetStream publish) with the same body.
 *
 * One write in flight, the median of `BENCH_FANIN_WRITES` writes per point after two unmeasured.
 */
import { performance } from "node:perf_hooks";
import { fmt, http, type Resources, type Row } from "./run-resources.js";
import { log, positive } from "./run-settings.js";
import { summarize } from "./stats.js";

const WRITES = Math.max(3, Math.floor(positive("BENCH_FANIN_WRITES", 15)));
const READER_COUNTS = (process.env.BENCH_FANIN_READERS ?? "0,1,50,200,500")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n >= 0)
  .sort((a, b) => a - b);
const SIZES_KIB = (process.env.BENCH_FANIN_SIZES ?? "1,16,128,512,1000")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
const UPSTREAM = "fanin-platform";
/** Environments each namespace has (the registry's default): one head and event per reader each. */
const ENVIRONMENTS = 3;

function upstreamDocument(seq: number, sharedValue: number): Record<string, unknown> {
  return {
    database: { host: `pg-${sharedValue}.internal`, port: 5432 },
    messaging: { url: "nats://nats.internal:4222" },
    // Read by nobody: a change here leaves every reader's resolved document as it was.
    unread: { seq, note: "x".repeat(600) },
  };
}

function readerDocument(name: string): Record<string, unknown> {
  return {
    service: name,
    database: { host: `\${ref:${UPSTREAM}:database.host}`, name: name.replaceAll("-", "_") },
    messaging: `\${ref:${UPSTREAM}:messaging.url}`,
    http: { port: 8080 },
  };
}

/** A JSON object of about `kib` KiB whose content changes with `seq`. */
function sizedDocument(kib: number, seq: number): Record<string, unknown> {
  const items: Record<string, string> = {};
  const entries = Math.max(1, Math.floor((kib * 1024) / 80));
  for (let i = 0; i < entries; i++)
    items[`item-${String(i).padStart(6, "0")}`] = `value ${i} `.padEnd(58, "v");
  return { seq, items };
}

/** Counts `config.changed` events as they arrive, so a write can wait for all of its own. */
function eventCounter(res: Resources) {
  let count = 0;
  let waiter: { target: number; resolve: () => void } | undefined;
  const sub = res.bus!.nc.subscribe(`${res.bus!.prefix}.config.changed.>`, {
    callback: () => {
      count++;
      if (waiter && count >= waiter.target) {
        waiter.resolve();
        waiter = undefined;
      }
    },
  });
  return {
    get count() {
      return count;
    },
    until(target: number, timeoutMs: number): Promise<void> {
      if (count >= target) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${count} of ${target} config.changed events within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiter = {
          target,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    close: () => sub.unsubscribe(),
  };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** CPU (user + system) this process used since `start`, in ms: the registry's share, robust to load. */
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1_000;
};

const median = (samples: number[]) => summarize([Float64Array.from(samples)]).p50;

async function createNamespace(registryUrl: string, name: string, base: Record<string, unknown>) {
  await http("POST", `${registryUrl}/v1/namespaces`, {
    name,
    description: "fan-in bench",
    owners: ["bench"],
  });
  await http("PUT", `${registryUrl}/v1/namespaces/${name}/layers/base`, base);
}

async function faninCurve(res: Resources, registryUrl: string): Promise<Row[]> {
  const events = eventCounter(res);
  let seq = 0;
  let shared = 0;
  await createNamespace(registryUrl, UPSTREAM, upstreamDocument(seq, shared));
  const put = (doc: Record<string, unknown>) =>
    http("PUT", `${registryUrl}/v1/namespaces/${UPSTREAM}/layers/base`, doc);
  let readers = 0;
  const points: { n: number; changed: number; unchanged: number; events: number; cpu: number }[] = [];
  log(`fan-in: one write at a time to ${UPSTREAM}/base, median of ${WRITES} writes per point`);
  try {
    for (const n of READER_COUNTS) {
      for (; readers < n; readers++) {
        const name = `fanin-r${String(readers).padStart(4, "0")}`;
        await createNamespace(registryUrl, name, readerDocument(name));
      }
      const changed: number[] = [];
      const unchanged: number[] = [];
      const drained: number[] = [];
      const cpu: number[] = [];
      for (let i = -2; i < WRITES; i++) {
        // Every reader reads database.host: each of its environments gets a new head and an event.
        const expected = events.count + ENVIRONMENTS * (n + 1);
        const startedAt = performance.now();
        const cpuAt = process.cpuUsage();
        const ackMs = await timed(() => put(upstreamDocument(++seq, ++shared)));
        await events.until(expected, 30_000 + n * 100);
        const allEventsMs = performance.now() - startedAt;
        const cpuMs = cpuMsSince(cpuAt);
        // Nobody reads `unread`: only the upstream's own documents change.
        const quietExpected = events.count + ENVIRONMENTS;
        const quietMs = await timed(() => put(upstreamDocument(++seq, shared)));
        await events.until(quietExpected, 30_000);
        if (i < 0) continue;
        changed.push(ackMs);
        drained.push(allEventsMs);
        cpu.push(cpuMs);
        unchanged.push(quietMs);
      }
      const point = {
        n,
        changed: median(changed),
        unchanged: median(unchanged),
        events: median(drained),
        cpu: median(cpu),
      };
      points.push(point);
      log(
        `  ${String(n).padStart(4)} readers: write ${fmt(point.changed, "ms")} ms (all ${ENVIRONMENTS * (n + 1)} events in ${fmt(point.events, "ms")} ms, ` +
          `${fmt(point.cpu, "ms")} ms of this process's CPU); ` +
          `write that no reader sees ${fmt(point.unchanged, "ms")} ms`,
      );
    }
  } finally {
    await events.close();
  }
  const zero = points.find((p) => p.n === 0);
  if (!zero) return [];
  log("");
  log(
    "| readers | write ms | per reader | all events ms | per reader | registry CPU ms | per reader | unseen write ms | per reader |",
  );
  log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const per = (t: number, t0: number, n: number) => (n === 0 ? "-" : ((t - t0) / n).toFixed(3));
  for (const p of points) {
    log(
      `| ${p.n} | ${fmt(p.changed, "ms")} | ${per(p.changed, zero.changed, p.n)} | ${fmt(p.events, "ms")} | ${per(p.events, zero.events, p.n)} | ${fmt(p.cpu, "ms")} | ${per(p.cpu, zero.cpu, p.n)} | ${fmt(p.unchanged, "ms")} | ${per(p.unchanged, zero.unchanged, p.n)} |`,
    );
  }
  const largest = points[points.length - 1]!;
  if (largest.n === 0) return [];
  const perReader = (largest.changed - zero.changed) / largest.n;
  return [
    {
      metric: `write, ${largest.n} readers (vs 0)`,
      nexus: largest.changed,
      baseline: zero.changed,
      unit: "ms",
      target: { text: "≤ 0.2 ms/reader", met: perReader <= 0.2 },
    },
  ];
}

async function sizeCurve(registryUrl: string, baselineUrl: string): Promise<Row[]> {
  log("");
  log(`document size: one base write at a time to a namespace nobody reads, median of ${WRITES}`);
  const rows: Row[] = [];
  let seq = 0;
  const first: { nexus: number; bare: number }[] = [];
  log("| size | nexus ms | bare ms | ratio | nexus ÷ nexus(1 KiB) | bare ÷ bare(1 KiB) |");
  log("|---:|---:|---:|---:|---:|---:|");
  for (const kib of SIZES_KIB) {
    const name = `fanin-size-${kib}k`;
    await createNamespace(registryUrl, name, sizedDocument(kib, seq++));
    const nexus: number[] = [];
    const bare: number[] = [];
    for (let i = -2; i < WRITES; i++) {
      const body = sizedDocument(kib, seq++);
      const writeNexus = () =>
        timed(() => http("PUT", `${registryUrl}/v1/namespaces/${name}/layers/base`, body));
      const writeBare = () => timed(() => http("POST", `${baselineUrl}/v1/writes/size${kib}`, body));
      // Alternate which goes first, so neither always follows the other.
      let nexusMs: number;
      let bareMs: number;
      if (i % 2 === 0) {
        nexusMs = await writeNexus();
        bareMs = await writeBare();
      } else {
        bareMs = await writeBare();
        nexusMs = await writeNexus();
      }
      if (i < 0) continue;
      nexus.push(nexusMs);
      bare.push(bareMs);
    }
    const point = { nexus: median(nexus), bare: median(bare) };
    first.push(point);
    const base = first[0]!;
    const bytes = JSON.stringify(sizedDocument(kib, 0)).length;
    log(
      `| ${(bytes / 1024).toFixed(0)} KiB | ${fmt(point.nexus, "ms")} | ${fmt(point.bare, "ms")} | ${(point.nexus / point.bare).toFixed(2)}× | ${(point.nexus / base.nexus).toFixed(1)}× | ${(point.bare / base.bare).toFixed(1)}× |`,
    );
    rows.push({
      metric: `write ${(bytes / 1024).toFixed(0)} KiB document`,
      nexus: point.nexus,
      baseline: point.bare,
      unit: "ms",
    });
  }
  return rows;
}

export async function faninPhase(res: Resources, registryUrl: string, baselineUrl: string): Promise<Row[]> {
  const rows = await faninCurve(res, registryUrl);
  if (SIZES_KIB.length > 0) rows.push(...(await sizeCurve(registryUrl, baselineUrl)));
  return rows;
}
