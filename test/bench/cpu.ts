/**
 * Who used the CPU during a phase: the servers this benchmark talks to (by process name, from
 * /proc) and the machine as a whole. Linux only; elsewhere every figure is missing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";

const WATCHED = ["postgres", "redis-server", "nats-server"] as const;
const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux this runs on

interface Snapshot {
  at: number;
  /** Per pid: [name, ticks]. */
  processes: Map<number, [string, number]>;
  machine: { busy: number; total: number } | undefined;
}

function readProcesses(): Map<number, [string, number]> {
  const out = new Map<number, [string, number]>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      if (!(WATCHED as readonly string[]).includes(name)) continue;
      // Fields after the name start at field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(close + 2).split(" ");
      out.set(Number(pid), [name, Number(fields[11]) + Number(fields[12])]);
    } catch {
      // gone in between, or not ours to read
    }
  }
  return out;
}

/** CPU time (user + system) a process has used so far, in ms; undefined when it cannot be read. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1_000;
  } catch {
    return undefined;
  }
}

function readMachine(): Snapshot["machine"] {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export function snapshot(): Snapshot {
  return { at: performance.now(), processes: readProcesses(), machine: readMachine() };
}

export interface CpuReport {
  /** Share of one core per watched server over the phase. */
  servers: Partial<Record<(typeof WATCHED)[number], number>>;
  /** Share of all cores the machine was busy. */
  machine: number | undefined;
}

export function since(start: Snapshot): CpuReport {
  const end = snapshot();
  const seconds = (end.at - start.at) / 1_000;
  const servers: CpuReport["servers"] = {};
  for (const [pid, [name, ticks]] of end.processes) {
    const before = start.processes.get(pid)?.[1] ?? 0;
    const key = name as (typeof WATCHED)[number];
    servers[key] = (servers[key] ?? 0) + (ticks - before) / TICKS_PER_SECOND / seconds;
  }
  const machine =
    start.machine && end.machine && end.machine.total > start.machine.total
      ? (end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total)
      : undefined;
  return { servers, machine };
}

/** CPU over several slices of one measurement, weighted by their length. */
export class CpuTally {
  private wallMs = 0;
  private ours = 0;
  private bench = 0;
  private load = 0;
  private machine = 0;
  private machineKnown = true;
  private readonly servers: CpuReport["servers"] = {};

  /** `bench` and `load`: this process's and the load generator's shares of one core. */
  add(wallMs: number, bench: number, load: number, report: CpuReport): void {
    this.wallMs += wallMs;
    this.bench += bench * wallMs;
    this.load += load * wallMs;
    this.ours += (bench + load) * wallMs;
    for (const [name, share] of Object.entries(report.servers)) {
      const key = name as keyof CpuReport["servers"];
      this.servers[key] = (this.servers[key] ?? 0) + share * wallMs;
    }
    if (report.machine === undefined) this.machineKnown = false;
    else this.machine += report.machine * wallMs;
  }

  line(): string {
    const w = this.wallMs || 1;
    const servers: CpuReport["servers"] = {};
    for (const [name, total] of Object.entries(this.servers))
      servers[name as keyof typeof servers] = total / w;
    const report: CpuReport = { servers, machine: this.machineKnown ? this.machine / w : undefined };
    const pct = (x: number) => `${Math.round(x * 100)}%`;
    return `bench servers ${pct(this.bench / w)}, load generator ${pct(this.load / w)}, ${describe(report, this.ours / w)}`;
  }

  /** Busy time of processes that are not part of the benchmark, as a share of one core. */
  other(): number | undefined {
    if (!this.machineKnown) return undefined;
    const w = this.wallMs || 1;
    const known = (this.ours + Object.values(this.servers).reduce((a, b) => a + b, 0)) / w;
    return Math.max(0, (this.machine / w) * availableParallelism() - known);
  }
}

/**
 * One line: each watched server's share of one core, then what is left of the machine's busy time
 * once `ours` (this benchmark's own processes, as shares of one core) and those servers are taken
 * out: other processes on the machine, which make a run noisy.
 */
export function describe(report: CpuReport, ours: number): string {
  const pct = (x: number | undefined) => (x === undefined ? "n/a" : `${Math.round(x * 100)}%`);
  const servers = WATCHED.map((n) => `${n.replace("-server", "")} ${pct(report.servers[n])}`).join(", ");
  const cores = availableParallelism();
  const known = ours + Object.values(report.servers).reduce((a, b) => a + b, 0);
  const other = report.machine === undefined ? undefined : Math.max(0, report.machine * cores - known);
  return `${servers}, anything else ${pct(other)}; machine busy ${pct(report.machine)} of ${cores} cores`;
}
