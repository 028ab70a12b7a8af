/** Messages between the benchmark (servers, main process) and its load generator (child process). */

export interface ReadJob {
  cmd: "read";
  url: string;
  connections: number;
  seconds: number;
  /** A first, unmeasured run of this length (JIT, connection set-up, caches). */
  warmupSeconds: number;
}

export interface ReadResult {
  /** 2xx responses in the measured run. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  reqPerSec: number;
  /** Latency percentiles in ms, from every response's own timing (autocannon's histogram is whole ms). */
  p50: number;
  p99: number;
  /** CPU the load generator itself used, as a share of one core. */
  loadCpu: number;
}

export type WriteKind = "nexus" | "baseline";

export interface WriteJob {
  cmd: "write";
  kind: WriteKind;
  baseUrl: string;
  /** Core NATS subject the events arrive on (wildcard). */
  subject: string;
  /** One writer per target (a namespace for nexus, a writer id for the baseline): writes in flight. */
  targets: string[];
  seconds: number;
  /** Hard cap on measured writes, whatever the time. */
  maxWrites: number;
  /** Unmeasured writes first, spread over the writers. */
  warmupWrites: number;
  /** How long to wait for the event of a write after its response, ms. */
  eventTimeoutMs: number;
}

export interface WriteResult {
  writes: number;
  /** Send → event received, ms. */
  eventP50: number;
  eventP99: number;
  eventMax: number;
  /** Send → HTTP response, ms. */
  ackP50: number;
  ackP99: number;
  /** Writes whose event arrived, per second from the first send to the last event. */
  endToEndPerSec: number;
  /** Acknowledged writes per second over the sending window. */
  ackedPerSec: number;
  loadCpu: number;
}

export type Job = ReadJob | WriteJob;
export type JobResult = ReadResult | WriteResult;

export interface ToChild {
  id: number;
  job: Job | { cmd: "exit" };
}
export type FromChild = { id: number; ok: true; result: JobResult } | { id: number; ok: false; error: string };
