import type { Logger } from "@nexus/kit";

export interface WorkerLoopOptions {
  name: string;
  logger: Logger;
  /** Do one batch; resolve to how many items it handled (0: nothing was due). */
  runOnce: () => Promise<number>;
  /** When the next item falls due (another instance's work included), to sleep no longer than needed. */
  nextDueAt: () => Promise<Date | null>;
  /** Upper bound on a sleep: picks up work written by other instances without a wake. */
  pollMs: number;
}

/**
 * A loop that works while there is work, then sleeps until the next item is due, the poll
 * interval passes, or `wake()` is called (in-process: right after a commit that made work).
 */
export function createWorkerLoop(o: WorkerLoopOptions) {
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let failures = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        return resolve();
      }
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  async function run() {
    while (running) {
      try {
        woken = false;
        const handled = await o.runOnce();
        failures = 0;
        if (handled > 0) continue;
        const next = await o.nextDueAt();
        const untilNext = next ? next.getTime() - Date.now() : o.pollMs;
        await sleep(Math.min(o.pollMs, Math.max(untilNext, 5)));
      } catch (err) {
        failures++;
        if (running) o.logger.warn({ err, worker: o.name }, `${o.name} failed, trying again shortly`);
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    wake() {
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
    },
  };
}
export type WorkerLoop = ReturnType<typeof createWorkerLoop>;
