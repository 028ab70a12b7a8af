import { createLease, type Logger } from "@nexus/kit";
import { Cron } from "croner";

/**
 * Singleton work of the detector, held by a Postgres advisory lease so exactly one instance does
 * it: the reconcile loop (findings, remediation, retiring silent instances), the scheduled
 * policy scan and the retention sweep. A standby takes over within `lockRetryMs` when the holder dies.
 */
export function createDuties(deps: {
  databaseUrl: string;
  schema: string;
  logger: Pick<Logger, "info" | "warn" | "debug" | "error">;
  reconcileIntervalMs: number;
  policyScanCron: string;
  retentionCron: string;
  reconcile(): Promise<void>;
  scanPolicies(): Promise<unknown>;
  sweepRetention(): Promise<unknown>;
  lockRetryMs?: number;
}) {
  let timer: NodeJS.Timeout | undefined;
  let crons: Cron[] = [];
  let running: Promise<void> | undefined;
  let active = false;

  const loop = () => {
    if (!active) return;
    running = deps
      .reconcile()
      .catch((err) => deps.logger.warn({ err }, "a reconcile pass failed; the next one retries"))
      .finally(() => {
        if (active) {
          timer = setTimeout(loop, deps.reconcileIntervalMs);
          timer.unref();
        }
      });
  };

  const stopWork = async () => {
    active = false;
    clearTimeout(timer);
    for (const c of crons) c.stop();
    crons = [];
    await running;
  };

  const lease = createLease({
    databaseUrl: deps.databaseUrl,
    name: `drift-duties:${deps.schema}`,
    channel: `${deps.schema}_duties`,
    retryMs: deps.lockRetryMs ?? 2_000,
    logger: deps.logger,
    onAcquired() {
      active = true;
      loop();
      crons = [
        new Cron(deps.policyScanCron, { protect: true, unref: true }, async () => {
          await deps.scanPolicies().catch((err) => deps.logger.warn({ err }, "policy scan failed"));
        }),
        new Cron(deps.retentionCron, { protect: true, unref: true }, async () => {
          await deps
            .sweepRetention()
            .catch((err) => deps.logger.warn({ err }, "retention sweep failed; the next one retries"));
        }),
      ];
    },
    onLost() {
      void stopWork();
    },
    onNotify() {},
  });

  return {
    start: () => lease.start(),
    async stop() {
      await stopWork();
      await lease.stop();
    },
    held: () => lease.held(),
    /** Run one reconcile pass now if this instance holds the lease (tests). */
    async runOnce(): Promise<boolean> {
      if (!lease.held()) return false;
      await running;
      await deps.reconcile();
      return true;
    },
  };
}
export type Duties = ReturnType<typeof createDuties>;
