/** Messages between the fan-out benchmark (parent) and its worker processes, over IPC. */
export interface FanoutStart {
  type: "start";
  /** `sdk`: real @nexus/client clients. `bare`: plain core subscriptions that answer at once. */
  mode: "sdk" | "bare";
  clients: number;
  worker: number;
  registryUrl: string;
  /** The clients' API token (HTTP reads). */
  token: string;
  natsUrl: string;
  prefix: string;
  namespace: string;
  environment: string;
  /** One NATS connection per client (like separate services), or one per worker process. */
  sharedNats: boolean;
  /** `http`: the SDK reads over HTTP (url given); `nats`: NATS-only clients (no url). */
  read: "http" | "nats";
}

export type ToWorker = FanoutStart | { type: "stop" };

export type FromWorker =
  | { type: "ready"; clients: number; startMs: number }
  | { type: "stopped" }
  | { type: "error"; message: string };

export const BARE_SUBJECT = (prefix: string) => `${prefix}.bench.fanout.bare`;
export const BARE_ACK_SUBJECT = (prefix: string) => `${prefix}.bench.fanout.bare-ack`;

/** Where the SDK clients' `config.applied` acks of one target go (the observer listens there). */
export const SDK_ACK_SUBJECT = (prefix: string) => `${prefix}.config.applied.>`;

export type ToObserver =
  | { type: "start"; natsUrl: string; prefix: string }
  /** Answer with the arrival times once `n` answers for `key` (a bare round, an SDK hash) are in. */
  | { type: "wait"; key: string; n: number; timeoutMs: number }
  | { type: "stop" };

export type FromObserver =
  | { type: "ready" }
  | { type: "arrived"; key: string; times: number[] }
  | { type: "error"; message: string };
