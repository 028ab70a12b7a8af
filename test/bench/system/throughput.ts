/**
 * The deployed system beside the bare chain, at 1 and WRITERS in flight, in interleaved slices:
 * writes/s, write → `config.changed` at a subscriber, write → the SDK's `config.applied` ack, and
 * CPU per change of every process (from /proc).
 */
import { performance } from "node:perf_hooks";
import { since, snapshot } from "../cpu.js";
import type { WriteJob, WriteKind, WriteSlice } from "../protocol.js";
import { fmt, type LoadProcess, ROUNDS, type Row, rotated, SLICE_SECONDS } from "../run-resources.js";
import { log, MAX_WRITES, SECONDS, WARMUP_WRITES, WRITE_WARMUP_SECONDS, WRITERS } from "../run-settings.js";
import { summarize } from "../stats.js";
import { printGrid } from "../table.js";
import {
  addCpu,
  type CpuGroups,
  cpuBetween,
  cpuSnapshot,
  PG_BACKENDS,
  PG_SHARED,
  WRITE_SYSCALLS,
} from "./proc-cpu.js";
import { SERVICE_NAMES } from "./services.js";

export interface Chains {
  load: LoadProcess;
  groups: CpuGroups;
  headers: Record<string, string>;
  registryUrl: string;
  /** The services' NATS prefix. */
  prefix: string;
  bareUrl: string;
  barePrefix: string;
  /** Group names of the benchmark's own processes. */
  bench: string;
  loadGroup: string;
  consumer: string;
}

export const writerNamespace = (i: number) => `sys-w${i + 1}`;

export function writeJob(
  c: Chains,
  kind: WriteKind,
  targets: string[],
  seconds: number,
  options: { warmup?: number; padBytes?: number; applied?: boolean } = {},
): WriteJob {
  const job: WriteJob = {
    cmd: "write",
    headers: c.headers,
    kind,
    baseUrl: kind === "nexus" ? c.registryUrl : c.bareUrl,
    subject: kind === "nexus" ? `${c.prefix}.config.changed.>` : `${c.barePrefix}.bench.written.>`,
    appliedSubject: kind === "nexus" ? `${c.prefix}.config.applied.>` : `${c.barePrefix}.bench.applied.>`,
    targets,
    seconds,
    maxWrites: Math.ceil(MAX_WRITES / ROUNDS),
    warmupWrites: options.warmup ?? 0,
    eventTimeoutMs: 15_000,
    ...(options.padBytes ? { padBytes: options.padBytes } : {}),
  };
  // Only the throughput namespaces have an SDK consumer.
  if (options.applied === false) delete job.appliedSubject;
  return job;
}

interface Measured {
  slices: WriteSlice[];
  cpu: Map<string, number>;
  wallMs: number;
  machineBusy: number;
}

/** One slice, and the CPU of every group meanwhile. */
export async function measuredSlice(c: Chains, job: WriteJob, into?: Measured): Promise<WriteSlice> {
  const before = cpuSnapshot(c.groups);
  const machine = snapshot();
  const started = performance.now();
  const result = await c.load.run<WriteSlice>(job);
  const wallMs = performance.now() - started;
  if (into) {
    addCpu(into.cpu, cpuBetween(before, cpuSnapshot(c.groups)));
    into.slices.push(result);
    into.machineBusy += (since(machine).machine ?? Number.NaN) * wallMs;
    into.wallMs += wallMs;
  }
  return result;
}

const targetsOf = (kind: WriteKind, inflight: number) =>
  Array.from({ length: inflight }, (_, i) => (kind === "nexus" ? writerNamespace(i) : `w${i + 1}`));

/** What each process does with no writes at all (timers, polls, heartbeats): CPU ms over `seconds`. */
export async function idlePhase(
  c: Chains,
  seconds: number,
): Promise<{ cpu: Map<string, number>; seconds: number }> {
  const start = cpuSnapshot(c.groups);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  const cpu = cpuBetween(start, cpuSnapshot(c.groups));
  log(`idle: ${seconds} s with no writes, for each process's CPU when nothing changes`);
  return { cpu, seconds: (performance.now() - started) / 1_000 };
}

/** `BENCH_ONLY=idle`: the idle CPU of every group, ms per second, and the Nexus processes' total. */
export function printIdleTable(idle: { cpu: Map<string, number>; seconds: number }): void {
  const nexus = [...SERVICE_NAMES, PG_BACKENDS, PG_SHARED, "nats-server", "redis-server"];
  const rate = (g: string) => (idle.cpu.get(g) ?? 0) / idle.seconds;
  const groups = [...new Set([...nexus, ...idle.cpu.keys()])].filter((g) => !g.endsWith(WRITE_SYSCALLS));
  printGrid(
    ["process", "idle, CPU ms/s"],
    [
      ...groups.map((g) => [g, rate(g).toFixed(1)]),
      ["all Nexus processes", nexus.reduce((a, g) => a + rate(g), 0).toFixed(1)],
    ],
  );
}

/**
 * Writes before any measurement (WRITE_WARMUP_SECONDS, half for each chain): the services have
 * just started, and for their first tens of seconds of writes V8 is still compiling their code
 * (a fifth of the registry's and the drift-detector's samples in `perf` then); a service that has
 * run for a while does not pay that per change.
 */
async function warmupPhase(c: Chains): Promise<void> {
  if (WRITE_WARMUP_SECONDS === 0) return;
  log(
    `warm-up: ${WRITE_WARMUP_SECONDS} s of writes at ${WRITERS} in flight (half on each chain), not measured`,
  );
  for (const kind of ["nexus", "baseline"] as const)
    await measuredSlice(c, writeJob(c, kind, targetsOf(kind, WRITERS), WRITE_WARMUP_SECONDS / 2));
}

export async function throughputPhase(
  c: Chains,
): Promise<{ rows: Row[]; cpuRows: string[][]; syscallRows: string[][] }> {
  const kinds = ["nexus", "baseline"] as const;
  const results = new Map<string, Measured>();
  const { cpu: idleCpu, seconds: idleSeconds } = await idlePhase(c, SECONDS);
  await warmupPhase(c);
  for (const inflight of [1, WRITERS]) {
    log(
      `write: ${inflight} in flight; each chain warmed up with ${WARMUP_WRITES} writes, then ${SECONDS} s each ` +
        `in ${ROUNDS} interleaved slices of ${SLICE_SECONDS} s`,
    );
    for (const kind of kinds)
      await measuredSlice(c, writeJob(c, kind, targetsOf(kind, inflight), 0, { warmup: WARMUP_WRITES }));
    const measured = new Map(
      kinds.map((k) => [k, { slices: [], cpu: new Map(), wallMs: 0, machineBusy: 0 } as Measured]),
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of rotated(kinds, round)) {
        await measuredSlice(
          c,
          writeJob(c, kind, targetsOf(kind, inflight), SLICE_SECONDS),
          measured.get(kind),
        );
      }
    }
    for (const kind of kinds) {
      const m = measured.get(kind)!;
      results.set(`${kind}/${inflight}`, m);
      const f = figures(m);
      log(
        `write: ${kind.padEnd(8)} ${inflight} in flight: ${f.writes} writes, ${fmt(f.perSec, "/s")} writes/s end to end; ` +
          `write→event p50 ${fmt(f.event.p50, "ms")} / p99 ${fmt(f.event.p99, "ms")} ms; ` +
          `write→applied-ack p50 ${fmt(f.applied.p50, "ms")} / p99 ${fmt(f.applied.p99, "ms")} ms; ` +
          `machine busy ${Math.round((m.machineBusy / m.wallMs) * 100)}% of its cores`,
      );
    }
  }
  const f = (kind: WriteKind, inflight: number) => figures(results.get(`${kind}/${inflight}`)!);
  const [n1, b1, n8, b8] = [f("nexus", 1), f("baseline", 1), f("nexus", WRITERS), f("baseline", WRITERS)];
  const rows: Row[] = [
    { metric: "writes/s, 1 in flight", nexus: n1.perSec, baseline: b1.perSec, unit: "/s" },
    {
      metric: `writes/s, ${WRITERS} in flight`,
      nexus: n8.perSec,
      baseline: b8.perSec,
      unit: "/s",
      target: { text: "≥ 0.4× bare", met: n8.perSec >= 0.4 * b8.perSec },
    },
  ];
  for (const [inflight, n, b] of [
    [1, n1, b1],
    [WRITERS, n8, b8],
  ] as const) {
    rows.push(
      {
        metric: `write→config.changed p50, ${inflight} in flight`,
        nexus: n.event.p50,
        baseline: b.event.p50,
        unit: "ms",
      },
      {
        metric: `write→config.changed p99, ${inflight} in flight`,
        nexus: n.event.p99,
        baseline: b.event.p99,
        unit: "ms",
      },
      {
        metric: `write→applied-ack p50, ${inflight} in flight`,
        nexus: n.applied.p50,
        baseline: b.applied.p50,
        unit: "ms",
      },
      {
        metric: `write→applied-ack p99, ${inflight} in flight`,
        nexus: n.applied.p99,
        baseline: b.applied.p99,
        unit: "ms",
      },
    );
  }
  const cpu = cpuTable(c, results, idleCpu, idleSeconds);
  rows.push({
    metric: "CPU per change, all Nexus processes, 1 in flight",
    nexus: cpu.totals.nexus1,
    baseline: cpu.totals.bare1,
    unit: "ms",
    target: { text: "≤ 4× bare", met: cpu.totals.nexus1 <= 4 * cpu.totals.bare1 },
  });
  rows.push({
    metric: `CPU per change, all Nexus processes, ${WRITERS} in flight`,
    nexus: cpu.totals.nexus8,
    baseline: cpu.totals.bare8,
    unit: "ms",
    target: { text: "≤ 4× bare", met: cpu.totals.nexus8 <= 4 * cpu.totals.bare8 },
  });
  return { rows, cpuRows: cpu.lines, syscallRows: cpu.syscalls };
}

function figures(m: Measured) {
  const event = summarize(m.slices.map((s) => s.eventMs));
  const applied = summarize(m.slices.map((s) => s.appliedMs));
  if (event.n === 0) throw new Error("no write completed");
  const activeS = m.slices.reduce((a, s) => a + s.activeMs, 0) / 1_000;
  return { writes: event.n, perSec: event.n / activeS, event, applied };
}

/**
 * CPU ms per change, per process group, for each chain and concurrency. "All Nexus processes" is
 * the services plus the servers they use (Postgres, NATS, Redis); the bare chain's total is its
 * server (this process) plus the same servers. The load generator and the consumer are shown but
 * in neither total (they are the clients).
 */
function cpuTable(c: Chains, results: Map<string, Measured>, idle: Map<string, number>, idleSeconds: number) {
  const servers = [PG_BACKENDS, PG_SHARED, "nats-server", "redis-server"];
  const columns = ["nexus/1", "baseline/1", `nexus/${WRITERS}`, `baseline/${WRITERS}`];
  const perChange = (col: string, group: string) => {
    const m = results.get(col)!;
    return (m.cpu.get(group) ?? 0) / figures(m).writes;
  };
  const groups = [...SERVICE_NAMES, c.bench, ...servers, c.consumer, c.loadGroup];
  const idleOf = (g: string) => ((idle.get(g) ?? 0) / idleSeconds).toFixed(1);
  const lines = groups.map((g) => [g, ...columns.map((col) => perChange(col, g).toFixed(2)), idleOf(g)]);
  const members = (col: string) =>
    col.startsWith("nexus") ? [...SERVICE_NAMES, ...servers] : [c.bench, ...servers];
  const total = (col: string) => members(col).reduce((a, g) => a + perChange(col, g), 0);
  const idleRate = (col: string) => members(col).reduce((a, g) => a + (idle.get(g) ?? 0), 0) / idleSeconds;
  // What the changes themselves cost: the total less what the same processes burn with no writes
  // over the same seconds (polls and timers, which a slow machine spreads over fewer changes).
  const lessIdle = (col: string) => {
    const m = results.get(col)!;
    return total(col) - (idleRate(col) * m.wallMs) / 1_000 / figures(m).writes;
  };
  lines.push(
    [
      "all Nexus processes (bare: its server + the servers)",
      ...columns.map((col) => total(col).toFixed(2)),
      idleRate("nexus/1").toFixed(1),
    ],
    ["the same, less its idle CPU over the slices", ...columns.map((col) => lessIdle(col).toFixed(2)), "-"],
  );
  const syscalls = SERVICE_NAMES.map((g) => [
    g,
    ...columns.map((col) => (col.startsWith("nexus") ? perChange(col, g + WRITE_SYSCALLS).toFixed(1) : "-")),
  ]);
  return {
    lines,
    syscalls,
    totals: {
      nexus1: total("nexus/1"),
      bare1: total("baseline/1"),
      nexus8: total(`nexus/${WRITERS}`),
      bare8: total(`baseline/${WRITERS}`),
    },
  };
}

/** Each service's write syscalls per change (every socket or log write is one; fewer is cheaper). */
export function printSyscallTable(lines: string[][]): void {
  log("");
  log("Write syscalls per change (from /proc/<pid>/io `syscw`: socket writes, log lines, …):");
  printGrid(
    ["process", "nexus, 1 in flight", "bare, 1", `nexus, ${WRITERS} in flight`, `bare, ${WRITERS}`],
    lines,
  );
}

export function printCpuTable(lines: string[][]): void {
  log("");
  log("CPU ms per change (per measured write whose config.changed arrived), from /proc:");
  printGrid(
    [
      "process",
      "nexus, 1 in flight",
      "bare, 1",
      `nexus, ${WRITERS} in flight`,
      `bare, ${WRITERS}`,
      "idle, ms/s",
    ],
    lines,
  );
  log(
    "nats-server and redis-server serve the whole machine (other test runs too); postgres backends are this run's " +
      "database's only; WAL/ckpt are the server's walwriter, checkpointer and background writer. idle: CPU ms per " +
      "second with no writes (timers, polls, heartbeats; a slice's share of it is in its per-change figure).",
  );
}
