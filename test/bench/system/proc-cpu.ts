/**
 * CPU time per process of the deployed system, from /proc (Linux; elsewhere every figure is 0):
 * each service's pid, this run's Postgres backends (their command line names the database), the
 * Postgres processes every commit leans on (WAL writer, checkpointer, background writer), the
 * NATS and Redis servers, and the benchmark's own processes. Each is a group; a slice's CPU is the
 * difference of two snapshots, per pid (a backend that starts during the slice counts from zero).
 */
import { readdirSync, readFileSync } from "node:fs";
import { processCpuMs } from "../cpu.js";

export interface CpuGroups {
  /** Named processes (services, load generator, consumer, this process), one group each. */
  pids: Map<string, number>;
  /** This run's database: its backends are the ones whose command line names it. */
  database: string;
}

/** Per pid: [group, CPU ms so far]. */
export type CpuSnapshot = Map<number, [string, number]>;

export const PG_BACKENDS = "postgres backends";
export const PG_SHARED = "postgres WAL/ckpt";
const SHARED_PG = /: (walwriter|checkpointer|background writer)\s*$/;

function serverGroup(pid: string, database: string): string | undefined {
  let comm: string;
  try {
    comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
  if (comm === "nats-server" || comm === "redis-server") return comm;
  if (comm !== "postgres") return undefined;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
  if (cmdline.includes(` ${database} `)) return PG_BACKENDS;
  if (SHARED_PG.test(cmdline)) return PG_SHARED;
  return undefined; // other databases' backends (other test runs on this server)
}

/** Suffix of the pseudo-group that counts a named process's write syscalls (`syscw`) instead of CPU ms. */
export const WRITE_SYSCALLS = " (write syscalls)";

/** Write syscalls (write, writev, sendto, …) so far: /proc/<pid>/io, readable for our own processes. */
function writeSyscalls(pid: number): number | undefined {
  try {
    const m = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(groups: CpuGroups): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const [group, pid] of groups.pids) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) out.set(pid, [group, ms]);
    // Keyed by the negative pid, so `cpuBetween` takes differences of it like of CPU ms.
    const writes = writeSyscalls(pid);
    if (writes !== undefined) out.set(-pid, [group + WRITE_SYSCALLS, writes]);
  }
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    if (out.has(Number(pid))) continue;
    const group = serverGroup(pid, groups.database);
    if (!group) continue;
    const ms = processCpuMs(Number(pid));
    if (ms !== undefined) out.set(Number(pid), [group, ms]);
  }
  return out;
}

/** CPU ms per group between two snapshots. */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, [group, ms]] of end) {
    out.set(group, (out.get(group) ?? 0) + ms - (start.get(pid)?.[1] ?? 0));
  }
  return out;
}

/** Adds `more` into `into`, group by group. */
export function addCpu(into: Map<string, number>, more: Map<string, number>): void {
  for (const [group, ms] of more) into.set(group, (into.get(group) ?? 0) + ms);
}
