/**
 * Messages between the benchmark (servers, main process) and its load generator (child process).
 * A job is one slice of one measurement; run.ts interleaves the slices of what it compares and
 * merges them, so that a disturbance on the machine hits both sides alike.
 */

export interface ReadJob {
  cmd: "read";
  url: string;
  /** Sent with every request (the registry's bearer token; the baselines get it too and ignore it). */
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

export interface ReadSlice {
  /** 2xx responses. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Every 2xx response's latency, ms, sub-millisecond (autocannon's own histogram is whole ms). */
  latencies: Float64Array;
  /** CPU the load generator used, as a share of one core. */
  loadCpu: number;
}

export type WriteKind = "nexus" | "baseline";

export interface WriteJob {
  cmd: "write";
  kind: WriteKind;
  baseUrl: string;
  headers: Record<string, string>;
  /** Core NATS subject the events arrive on (wildcard). */
  subject: string;
  /** One writer per target (a namespace for nexus, a writer id for the baseline): writes in flight. */
  targets: string[];
  seconds: number;
  /** Hard cap on measured writes in this slice, whatever the time. */
  maxWrites: number;
  /** Go on past `seconds` until this many measured writes were sent (slow points of a curve). */
  minWrites?: number;
  /** Unmeasured writes first, spread over the writers. */
  warmupWrites: number;
  /** How long to wait for the event of a write after its response, ms. */
  eventTimeoutMs: number;
  /**
   * Core NATS subject of `config.applied` acks (wildcard; nexus only): each write then also waits
   * for an SDK's ack of its revision or a newer one (an SDK merges changes that arrive meanwhile).
   */
  appliedSubject?: string;
  /** Pad each written document to about this many bytes of JSON (many small entries); default ~300. */
  padBytes?: number;
}

export interface WriteSlice {
  /** Send → event received, ms, one per write. */
  eventMs: Float64Array;
  /** Send → HTTP response, ms, one per write. */
  ackMs: Float64Array;
  /** Send → `config.applied` of that revision or a newer one, ms, one per write (with `appliedSubject`). */
  appliedMs: Float64Array;
  /** First send → last event received, ms. */
  activeMs: number;
  /** First send → last response received, ms. */
  sendingMs: number;
  loadCpu: number;
}

export type Job = ReadJob | WriteJob;

export interface ToChild {
  id: number;
  job: Job | { cmd: "exit" };
}

export type FromChild =
  | { id: number; ok: true; result: ReadSlice | WriteSlice | null }
  | { id: number; ok: false; error: string };
