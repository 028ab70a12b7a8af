import type { Logger } from "@nexus/kit";
import { mergePending } from "./inventory-fns.js";
import { instanceKey, type PendingInstance } from "./inventory-types.js";

export interface InventoryBatcher {
  /** Resolves once the report is in Postgres (the caller acks then); rejects if that flush failed. */
  add(update: PendingInstance): Promise<void>;
  /** Write what is pending now (tests, shutdown). */
  flush(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  pending(): number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Heartbeats arrive at ~1,000/s; a transaction each would be the bottleneck. Reports are merged
 * per instance in memory and written in one statement every `intervalMs`; each message is acked
 * only after the statement that contains it committed, so a crash before the flush loses nothing
 * (JetStream redelivers the unacked messages) and a redelivery after it changes nothing (the
 * upsert never moves an instance backwards).
 */
export function createInventoryBatcher(deps: {
  write(batch: PendingInstance[]): Promise<void>;
  intervalMs: number;
  logger: Pick<Logger, "warn" | "debug">;
  /** Called after each successful flush with the instances it wrote. */
  onFlushed?: (batch: PendingInstance[]) => void;
}): InventoryBatcher {
  let pending = new Map<string, PendingInstance>();
  let waiters: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const flushOnce = async (): Promise<void> => {
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    const settled = waiters;
    pending = new Map();
    waiters = [];
    const started = performance.now();
    try {
      await deps.write(batch);
    } catch (err) {
      deps.logger.warn(
        { err, instances: batch.length, messages: settled.length },
        "could not write instance reports; they will be delivered again",
      );
      for (const w of settled) w.reject(err);
      return;
    }
    for (const w of settled) w.resolve();
    deps.logger.debug(
      { instances: batch.length, messages: settled.length, ms: Math.round(performance.now() - started) },
      "instance reports written",
    );
    deps.onFlushed?.(batch);
  };

  // One flush at a time, in order.
  const flush = (): Promise<void> => {
    running = running.then(flushOnce);
    return running;
  };

  return {
    add(update) {
      const key = instanceKey(update);
      const current = pending.get(key);
      pending.set(key, current ? mergePending(current, update) : update);
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    flush,
    start() {
      if (timer) return;
      stopped = false;
      const tick = () => {
        if (stopped) return;
        timer = setTimeout(() => void flush().finally(tick), deps.intervalMs);
        timer.unref();
      };
      tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await flush();
    },
    pending: () => pending.size,
  };
}
