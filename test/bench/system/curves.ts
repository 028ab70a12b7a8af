/**
 * How the cost of a write and a read grows with the work: document size (beside the bare chain
 * and a bare read of the same bytes), history length, namespace count and `${ref:}` fan-in. One
 * writer, 1 in flight; each point's latency is the median of CURVE_SECONDS of writes (or reads).
 */
import type pg from "pg";
import { type Listening, startBareRead } from "../baseline.js";
import { baseDocument, NAMESPACE_VARIABLES } from "../documents.js";
import type { ReadSlice, WriteSlice } from "../protocol.js";
import { fmt, http, seedNamespace } from "../run-resources.js";
import { log, positive } from "../run-settings.js";
import { summarize } from "../stats.js";
import { printGrid } from "../table.js";
import { seedHistory, seedNamespaces, seedReaders } from "./seed.js";
import { type Chains, writeJob } from "./throughput.js";

const CURVE_SECONDS = Math.min(positive("BENCH_CURVE_SECONDS", 2), 30);
/** Each point's median is of at least this many writes, however long they take. */
const MIN_WRITES = Math.floor(positive("BENCH_CURVE_MIN_WRITES", 7));
/** A comma-separated list of points; set but empty leaves that curve out. */
const list = (name: string, fallback: number[]) => {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  return raw
    .split(",")
    .filter((p) => p.trim() !== "")
    .map(Number)
    .filter((n) => Number.isFinite(n) && n >= 0);
};
/** Sizes in KiB; the registry's default body limit (MAX_BODY_BYTES) is 1 MiB, so "1 MiB" is 1,000 KiB. */
const SIZES_KIB = list("BENCH_CURVE_SIZES_KIB", [1, 16, 128, 1000]);
const HISTORY = list("BENCH_CURVE_HISTORY", [1, 1_000, 10_000, 100_000]);
const NAMESPACES = list("BENCH_CURVE_NAMESPACES", [10, 1_000, 10_000]);
const READERS = list("BENCH_CURVE_READERS", [0, 1, 50, 200, 500]);

interface Point {
  curve: string;
  x: number;
  label: string;
  write: number;
  response: number;
  read?: number;
  bareWrite?: number;
  bareRead?: number;
}

async function writeLatency(c: Chains, kind: "nexus" | "baseline", target: string, padBytes?: number) {
  const job = writeJob(c, kind, [target], CURVE_SECONDS, {
    warmup: 2,
    applied: false,
    ...(padBytes ? { padBytes } : {}),
  });
  const slice = await c.load.run<WriteSlice>({ ...job, minWrites: MIN_WRITES });
  return { write: summarize([slice.eventMs]).p50, response: summarize([slice.ackMs]).p50 };
}

async function readLatency(c: Chains, url: string): Promise<number> {
  const slice = await c.load.run<ReadSlice>({
    cmd: "read",
    url,
    headers: c.headers,
    connections: 1,
    seconds: Math.max(1, Math.round(CURVE_SECONDS)),
  });
  if (slice.non2xx || slice.errors)
    throw new Error(`reads of ${url}: ${slice.non2xx} non-2xx, ${slice.errors} errors`);
  return summarize([slice.latencies]).p50;
}

const resolvedPath = (ns: string) => `/v1/namespaces/${ns}/environments/production/resolved`;

async function pointOf(c: Chains, curve: string, x: number, label: string, ns: string): Promise<Point> {
  const w = await writeLatency(c, "nexus", ns);
  const read = await readLatency(c, `${c.registryUrl}${resolvedPath(ns)}`);
  return report({ curve, x, label, ...w, read });
}

function report(p: Point): Point {
  const ms = (n: number | undefined) => (n === undefined ? "-" : `${fmt(n, "ms")} ms`);
  log(
    `curve ${p.curve} ${p.label}: write→event p50 ${ms(p.write)} (bare ${ms(p.bareWrite)}), ` +
      `write→response p50 ${ms(p.response)}, read p50 ${ms(p.read)} (bare ${ms(p.bareRead)})`,
  );
  return p;
}

export async function curvesPhase(c: Chains, pool: pg.Pool, servers: Listening[]): Promise<void> {
  log(`curves: 1 in flight, ${CURVE_SECONDS} s of writes and of reads per point (BENCH_CURVE_SECONDS)`);
  const points: Point[] = [];

  // Document size, each beside the bare chain writing the same body and a bare read of the same bytes.
  if (SIZES_KIB.length) await seedNamespace(c.registryUrl, "curve-size");
  for (const kib of SIZES_KIB) {
    const bytes = kib * 1024;
    const nexus = await writeLatency(c, "nexus", "curve-size", bytes);
    const bare = await writeLatency(c, "baseline", "curve-size", bytes);
    const url = `${c.registryUrl}${resolvedPath("curve-size")}`;
    const first = await fetch(url, { headers: c.headers });
    const body = await first.text();
    const bareServer = await startBareRead(
      resolvedPath("curve-size"),
      body,
      first.headers.get("content-type") ?? "",
    );
    servers.push(bareServer);
    const read = await readLatency(c, url);
    const bareRead = await readLatency(c, `${bareServer.url}${resolvedPath("curve-size")}`);
    await bareServer.close();
    servers.splice(servers.indexOf(bareServer), 1);
    const label = `${kib} KiB (resolved ${Math.round(Buffer.byteLength(body) / 1024)} KiB)`;
    points.push(report({ curve: "size", x: kib, label, ...nexus, read, bareWrite: bare.write, bareRead }));
  }

  // History length of the written layer: revisions copied in by SQL (seed.ts), then writes and reads.
  if (HISTORY.length) await seedNamespace(c.registryUrl, "curve-history");
  for (const n of HISTORY) {
    const total = await seedHistory(pool, "curve-history", n);
    points.push(
      await pointOf(c, "history", total, `${total.toLocaleString("en-US")} revisions`, "curve-history"),
    );
  }

  // Namespace count: copies of one namespace by SQL (seed.ts); writes and reads of one of them.
  if (NAMESPACES.length) await seedNamespace(c.registryUrl, "curve-namespaces");
  for (const n of NAMESPACES) {
    const total = await seedNamespaces(pool, "curve-namespaces", n);
    points.push(
      await pointOf(
        c,
        "namespaces",
        total,
        `${total.toLocaleString("en-US")} namespaces`,
        "curve-namespaces",
      ),
    );
  }

  // Fan-in: one namespace read through ${ref:} by N others; the cost of a write to it.
  await http("POST", `${c.registryUrl}/v1/namespaces`, {
    name: "curve-src",
    description: "fan-in source",
    owners: ["bench"],
    variables: NAMESPACE_VARIABLES,
  });
  await http("PUT", `${c.registryUrl}/v1/namespaces/curve-src/layers/base`, {
    ...baseDocument("curve-src"),
    deployment: { writer: "none", seq: 0, note: "base" },
  });
  let readers = 0;
  for (const n of READERS) {
    const started = performance.now();
    await seedReaders(c.registryUrl, "curve-src", readers, n);
    if (n > readers)
      log(
        `curve fan-in: ${n - readers} readers added through the API in ${Math.round(performance.now() - started)} ms`,
      );
    readers = Math.max(readers, n);
    const w = await writeLatency(c, "nexus", "curve-src");
    points.push(report({ curve: "fan-in", x: readers, label: `${readers} readers`, ...w }));
  }
  printCurves(points);
}

/** log-log slope from the curve's previous point: 0 flat, 1 linear in the work, above 1 worse. */
function slope(a: number, b: number, xa: number, xb: number): string {
  if (!(xa > 0 && xb > xa && a > 0 && b > 0)) return "-";
  return (Math.log(b / a) / Math.log(xb / xa)).toFixed(2);
}

function printCurves(points: Point[]): void {
  const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "-" : fmt(n, "ms"));
  const lines: string[][] = [];
  for (const [i, p] of points.entries()) {
    const prev = points[i - 1]?.curve === p.curve ? points[i - 1] : undefined;
    const zero = points.find((q) => q.curve === "fan-in" && q.x === 0);
    const grows =
      p.curve === "fan-in"
        ? zero && p.x > 0
          ? `${((p.response - zero.response) / p.x).toFixed(2)} ms/reader`
          : "-"
        : prev
          ? `write ${slope(prev.write, p.write, prev.x, p.x)}, read ${p.read && prev.read ? slope(prev.read, p.read, prev.x, p.x) : "-"}`
          : "-";
    lines.push([
      `${p.curve}: ${p.label}`,
      ms(p.write),
      ms(p.bareWrite),
      p.bareWrite ? `${(p.write / p.bareWrite).toFixed(1)}×` : "-",
      ms(p.response),
      ms(p.read),
      ms(p.bareRead),
      p.read && p.bareRead ? `${(p.read / p.bareRead).toFixed(1)}×` : "-",
      grows,
    ]);
  }
  printGrid(
    [
      "point",
      "write→event p50 ms",
      "bare",
      "ratio",
      "write→response p50 ms",
      "read p50 ms",
      "bare read",
      "ratio",
      "grows like",
    ],
    lines,
  );
  log(
    "grows like: log-log slope of the p50 from the curve's previous point (0 = flat, 1 = in proportion to the work, " +
      "above 1 = faster than the work); fan-in: extra write→response ms per reader over the write with no readers.",
  );
}
