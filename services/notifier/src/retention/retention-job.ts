import { createLease, type Logger, type Pool } from "@nexus/kit";
import { Cron } from "croner";
import { type RetentionPolicy, retentionCutoffs } from "./retention-fns.js";
import type { RetentionStore } from "./retention-store.js";

export interface RetentionConfig extends RetentionPolicy {
  /** croner pattern (seconds optional), e.g. `23 * * * *`. */
  cron: string;
  /** Rows per delete statement. */
  batchSize: number;
  /** The lease's own connection (session advisory lock) needs a URL, not a pooled client. */
  databaseUrl: string;
  schema: string;
  /** How often a standby tries to take the lease over. */
  lockRetryMs?: number;
}

export interface RetentionReport {
  deliveries: number;
  deadLetters: number;
  alerts: number;
  history: number;
  groups: number;
  slackPacing: number;
}

/**
 * Deletes old alerts, history and deliveries on a schedule, in batches. One instance does it at a
 * time: the schedule runs only while this instance holds a Postgres advisory lease (kit
 * createLease); when the holder dies, a standby takes over within `lockRetryMs`.
 */
export function createRetentionJob(deps: {
  pool: Pool;
  store: RetentionStore;
  logger: Pick<Logger, "info" | "warn" | "debug" | "error">;
  config: RetentionConfig;
  now?: () => Date;
}) {
  const { pool, store, config, logger } = deps;
  let cron: Cron | undefined;
  let running: Promise<RetentionReport> | undefined;

  /** Delete batch after batch until one comes back short. */
  async function drain(step: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await step(config.batchSize);
      total += n;
      if (n < config.batchSize) return total;
    }
  }

  async function sweep(): Promise<RetentionReport> {
    const cut = retentionCutoffs(config, deps.now?.() ?? new Date());
    const report: RetentionReport = {
      deliveries: 0,
      deadLetters: 0,
      alerts: 0,
      history: 0,
      groups: 0,
      slackPacing: 0,
    };
    if (cut.records) {
      const at = cut.records;
      report.deliveries = await drain((n) => store.deliveredBefore(pool, at, n));
      report.alerts = await drain((n) => store.alertsBefore(pool, at, n));
      report.history = await drain((n) => store.historyBefore(pool, at, n));
      report.groups = await drain((n) => store.emptyGroupsBefore(pool, at, n));
      report.slackPacing = await drain((n) => store.idlePacingBefore(pool, at, n));
    }
    if (cut.deadLetters) {
      const at = cut.deadLetters;
      report.deadLetters = await drain((n) => store.deadBefore(pool, at, n));
    }
    const removed = Object.values(report).reduce((a, b) => a + b, 0);
    if (removed > 0)
      logger.info(
        report,
        `retention removed ${report.alerts} alerts, ${report.history} history lines, ${report.deliveries} deliveries and ${report.deadLetters} dead letters`,
      );
    return report;
  }

  /** One sweep at a time in this process (cron's `protect` skips a tick while one runs). */
  const runSweep = () => {
    running ??= sweep().finally(() => {
      running = undefined;
    });
    return running;
  };

  const stopSchedule = async () => {
    cron?.stop();
    cron = undefined;
    await running?.catch(() => undefined);
  };

  const lease = createLease({
    databaseUrl: config.databaseUrl,
    name: `notifier-retention:${config.schema}`,
    channel: `${config.schema}_retention`,
    retryMs: config.lockRetryMs ?? 30_000,
    logger,
    onAcquired() {
      cron = new Cron(config.cron, { protect: true, unref: true }, async () => {
        await runSweep().catch((err) => logger.warn({ err }, "retention sweep failed; the next one retries"));
      });
    },
    onLost() {
      void stopSchedule();
    },
    onNotify() {},
  });

  return {
    start: () => lease.start(),
    async stop() {
      await stopSchedule();
      await lease.stop();
    },
    held: () => lease.held(),
    /** Sweep now if this instance holds the lease (tests, operators); null when another does. */
    async runOnce(): Promise<RetentionReport | null> {
      if (!lease.held()) return null;
      return runSweep();
    },
  };
}
export type RetentionJob = ReturnType<typeof createRetentionJob>;
