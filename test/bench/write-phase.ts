/** Write → `config.changed`: the registry beside a bare Postgres commit + NATS publish chain. */
import { CpuTally } from "./cpu.js";
import type { WriteJob, WriteKind, WriteSlice } from "./protocol.js";
import {
  auth,
  fmt,
  noiseNote,
  type Resources,
  ROUNDS,
  type Row,
  rotated,
  SLICE_SECONDS,
  slice,
} from "./run-resources.js";
import { log, MAX_WRITES, SECONDS, WARMUP_WRITES, WRITE_WARMUP_SECONDS, WRITERS } from "./run-settings.js";
import { summarize } from "./stats.js";

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

export async function writePhase(
  res: Resources,
  registryUrl: string,
  baselineUrl: string,
  baselineSubject: string,
): Promise<Row[]> {
  const kinds = ["nexus", "baseline"] as const;
  const job = (kind: WriteKind, inflight: number, seconds: number, warmupWrites: number): WriteJob => ({
    cmd: "write",
    headers: auth.headers,
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
  if (WRITE_WARMUP_SECONDS > 0) {
    // The registry's code is still being compiled for its first tens of seconds of writes (README (w)).
    log(
      `write: warm-up, ${WRITE_WARMUP_SECONDS} s of writes at ${WRITERS} in flight (half on each chain), not measured`,
    );
    for (const kind of kinds)
      await slice(res, job(kind, WRITERS, WRITE_WARMUP_SECONDS / 2, 0), new CpuTally());
  }
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
      target: { text: "≤ 1.5× bare", met: n1.eventP99 <= 1.5 * b1.eventP99 },
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
      target: { text: "≥ 0.6× bare", met: n8.endToEndPerSec >= 0.6 * b8.endToEndPerSec },
    },
  ];
}
