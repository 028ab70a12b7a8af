import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { ServiceProcess } from "./service-process.js";

/**
 * What the kill tests of test/faults share: an operation history (each operation recorded as
 * invoked, then ok / fail / unknown with what was answered, and checked offline after the last
 * restart), a loop that SIGKILLs a service at random moments and starts it again, and a local
 * receiver that counts the side effects a service causes outside itself.
 */

/** Kills per service: a few in CI, the 20 with FAULTS_LONG=1. */
export const killsFor = (fast: number): number => (process.env.FAULTS_LONG === "1" ? 20 : fast);

export type Outcome = "ok" | "fail" | "unknown";

export interface RecordedOperation<D = Record<string, unknown>> {
  kind: string;
  /** What the operation is about (a run id, a trigger, an alert fingerprint), once known. */
  key: string;
  outcome: Outcome;
  status?: number;
  error?: string;
  detail: D;
}

/** Operations in the order they were invoked; an answer fills in the outcome. */
export class OperationHistory<D = Record<string, unknown>> {
  readonly operations: RecordedOperation<D>[] = [];

  /**
   * Invoke `send` and record what came back: 2xx ok, 4xx fail (certainly not done), anything else
   * (5xx, a cut connection, a timeout) unknown, which the check must accept either way.
   */
  async record<T extends { status: number }>(
    kind: string,
    key: string,
    detail: D,
    send: () => Promise<T>,
    keyOf?: (answer: T) => string | undefined,
  ): Promise<T | undefined> {
    const op: RecordedOperation<D> = { kind, key, outcome: "unknown", detail };
    this.operations.push(op);
    try {
      const answer = await send();
      op.status = answer.status;
      if (answer.status >= 200 && answer.status < 300) {
        op.outcome = "ok";
        op.key = keyOf?.(answer) ?? key;
      } else if (answer.status >= 400 && answer.status < 500) op.outcome = "fail";
      else op.error = `status ${answer.status}`;
      return answer;
    } catch (err) {
      const cause = (err as Error & { cause?: Error & { code?: string } }).cause;
      op.error = cause ? `${(err as Error).message}: ${cause.message}` : (err as Error).message;
      // Refused before connecting: it certainly did not happen (the service was down).
      if (cause?.code === "ECONNREFUSED") op.outcome = "fail";
      return undefined;
    }
  }

  of(outcome: Outcome, kind?: string): RecordedOperation<D>[] {
    return this.operations.filter((o) => o.outcome === outcome && (kind === undefined || o.kind === kind));
  }

  count(outcome: Outcome): number {
    return this.of(outcome).length;
  }
}

export interface KillLoopResult {
  /** Milliseconds from each SIGKILL to the restarted process answering /readyz. */
  restartsMs: number[];
  process: ServiceProcess;
}

/**
 * SIGKILL the service `kills` times, each at a random moment `minMs`–`maxMs` after it came up
 * (while it works), and start it again; `beforeKill` may wait for a moment worth killing in.
 */
export async function killRepeatedly(options: {
  kills: number;
  process: ServiceProcess;
  restart: () => Promise<ServiceProcess>;
  minMs: number;
  maxMs: number;
  beforeKill?: (index: number) => Promise<void>;
  onRestart?: (process: ServiceProcess) => void;
}): Promise<KillLoopResult> {
  let current = options.process;
  const restartsMs: number[] = [];
  for (let k = 0; k < options.kills; k++) {
    await options.beforeKill?.(k);
    await sleep(options.minMs + Math.random() * (options.maxMs - options.minMs));
    const killedAt = Date.now();
    await current.kill();
    current = await options.restart();
    options.onRestart?.(current);
    restartsMs.push(Date.now() - killedAt);
  }
  return { restartsMs, process: current };
}

export const restartFigure = (ms: readonly number[]): string => {
  if (ms.length === 0) return "no restarts";
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `restart to ready median ${(median / 1000).toFixed(1)} s, max ${(sorted[sorted.length - 1]! / 1000).toFixed(1)} s`;
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `check` holds (polling), or throw with the last value after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs / 1000} s; last: ${JSON.stringify(value).slice(0, 500)}`,
      );
    await sleep(150);
  }
}

export interface CountingReceiver {
  url: string;
  /** Every request received, in order (a side effect seen from outside). */
  requests: { path: string; headers: IncomingHttpHeaders; body: unknown }[];
  /** Requests per value of `header` (a delivery id): more than one is a re-send of the same effect. */
  copiesBy(header: string): Map<string, number>;
  close(): Promise<void>;
}

/** A local HTTP receiver answering 200 after `delayMs`, counting what arrives. */
export async function startCountingReceiver(delayMs = 0): Promise<CountingReceiver> {
  const requests: CountingReceiver["requests"] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d) => {
      text += d;
    });
    req.on("end", () => {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      requests.push({ path: req.url ?? "", headers: req.headers, body });
      setTimeout(() => res.writeHead(200, { "content-type": "text/plain" }).end("ok"), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    copiesBy(header) {
      const copies = new Map<string, number>();
      for (const r of requests) {
        const id = String(r.headers[header]);
        copies.set(id, (copies.get(id) ?? 0) + 1);
      }
      return copies;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
