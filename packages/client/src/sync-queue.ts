/**
 * One sync at a time, in order, with requests that arrive meanwhile merged into the next one:
 * ten announcements during a slow change handler cost one fetch of the latest afterwards, and
 * revisions are applied one after another, never concurrently.
 */
export type SyncReason =
  | "event"
  | "poll"
  | "retry"
  | "reconnect"
  | "resync"
  | "refresh"
  | "startup"
  | "rollout";

export interface SyncJob {
  reasons: Set<SyncReason>;
  /** Resync commands served by this job; `undefined` for one without a requestId. Non-empty = forced. */
  resyncs: (string | undefined)[];
}

export interface SyncRequest {
  reason: SyncReason;
  resyncRequestId?: string | undefined;
}

/** Runs a job; resolves to the error that ended it, if any (the queue itself never rejects). */
export type SyncRunner = (job: SyncJob) => Promise<unknown>;

export interface SyncQueue {
  /** Resolves once a job covering this request has run, with that job's error if it failed. */
  schedule(request: SyncRequest): Promise<unknown>;
  /** Resolves when nothing is running or pending. */
  idle(): Promise<void>;
}

export function createSyncQueue(run: SyncRunner): SyncQueue {
  let pending: { job: SyncJob; waiters: ((outcome: unknown) => void)[] } | null = null;
  let running: Promise<void> | null = null;

  async function drain(): Promise<void> {
    while (pending) {
      const { job, waiters } = pending;
      pending = null;
      let outcome: unknown;
      try {
        outcome = await run(job);
      } catch (err) {
        outcome = err;
      }
      for (const resolve of waiters) resolve(outcome);
    }
    running = null;
  }

  return {
    schedule(request) {
      pending ??= { job: { reasons: new Set(), resyncs: [] }, waiters: [] };
      pending.job.reasons.add(request.reason);
      if (request.reason === "resync") pending.job.resyncs.push(request.resyncRequestId);
      const done = new Promise<unknown>((resolve) => pending!.waiters.push(resolve));
      running ??= drain();
      return done;
    },
    async idle() {
      while (running) await running;
    },
  };
}
