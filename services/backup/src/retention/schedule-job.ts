import { createLease, type Logger, type Pool } from "@nexus/kit";
import { Cron } from "croner";
import type { BackupService } from "../backups/backup-service.js";
import type { BackupStore } from "../backups/backup-store.js";
import type { BundleStorage } from "../storage/storage-types.js";
import { backupsToPrune, type RetentionPolicy } from "./retention-fns.js";

export interface ScheduleConfig {
  /** When a full backup is taken (croner pattern); it is verified right after. */
  backupCron: string;
  /** When an incremental backup is taken (the revisions since the newest backup); "" for never. */
  incrementalCron?: string;
  /** When the newest completed backup is verified again (a restore drill on schedule); "" for never. */
  verifyCron: string;
  retention: RetentionPolicy;
  /** The lease's own connection (session advisory lock) needs a URL, not a pooled client. */
  databaseUrl: string;
  schema: string;
  lockRetryMs?: number;
}

/**
 * Scheduled backups, drills and pruning. Only the instance holding the
 * `backup-schedule:<schema>` lease runs them (kit createLease); a standby takes over when the
 * holder's session ends.
 */
export function createScheduleJob(deps: {
  pool: Pool;
  store: BackupStore;
  storage: BundleStorage;
  backups: BackupService;
  logger: Pick<Logger, "info" | "warn" | "error" | "debug">;
  config: ScheduleConfig;
  now?: () => Date;
}) {
  const { pool, store, storage, backups, logger, config } = deps;
  const crons: Cron[] = [];

  /** Prune completed backups the policy no longer keeps: the bundle first, then the row. */
  async function prune(): Promise<string[]> {
    const all = (await store.list(pool, 10_000)).filter((b) => b.status === "completed" && b.snapshotAt);
    const ids = backupsToPrune(
      all.map((b) => ({
        id: b.id,
        kind: b.kind,
        snapshotAt: b.snapshotAt!,
        verified: b.verification === "verified",
      })),
      config.retention,
      deps.now?.() ?? new Date(),
    );
    for (const id of ids) {
      await storage.removePrefix(`${id}/`);
      await store.markPruned(pool, id);
    }
    if (ids.length > 0) logger.info({ pruned: ids }, `retention pruned ${ids.length} backup(s)`);
    return ids;
  }

  async function scheduledBackup(kind: "full" | "incremental") {
    // An incremental needs something to build on: the first scheduled one is a full backup.
    const hasBase = (await store.list(pool, 50)).some((b) => b.status === "completed");
    const run = await backups.run({
      kind: kind === "incremental" && hasBase ? "incremental" : "full",
      trigger: "schedule",
      requestedBy: "schedule",
    });
    const b = await run.done;
    if (b.status === "completed") await prune();
  }

  async function scheduledVerify() {
    const newest = (await store.list(pool, 50)).find((b) => b.status === "completed");
    if (newest) await (await backups.verify(newest.id)).done;
  }

  /**
   * Claim the scheduled time this firing is for (the pattern's latest time not after now), once
   * across every instance and every clock: croner schedules from the wall clock, so a clock
   * stepped back past a time that fired fires it again, and the claim turns that into a no-op.
   */
  async function claimSlot(job: string, cron: Cron): Promise<boolean> {
    const now = deps.now?.() ?? new Date();
    const slot = cron.previousRuns(1, new Date(now.getTime() + 1))[0] ?? now;
    const res = await pool.query(
      "INSERT INTO schedule_slots (job, slot) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
      [job, slot],
    );
    if (res.rowCount === 0)
      logger.warn(
        { job, slot: slot.toISOString() },
        `the ${job} schedule's time ${slot.toISOString()} has fired already (the clock went back); not again`,
      );
    return res.rowCount === 1;
  }

  /** A croner job that runs `fn` once per scheduled time. */
  const scheduled = (job: string, pattern: string, fn: () => Promise<void>, failure: string) =>
    new Cron(pattern, { protect: true, unref: true }, async (self: Cron) => {
      try {
        if (await claimSlot(job, self)) await fn();
      } catch (err) {
        logger.warn({ err }, `${failure}: ${(err as Error).message}`);
      }
    });

  const stopSchedules = () => {
    for (const c of crons.splice(0)) c.stop();
  };

  const lease = createLease({
    databaseUrl: config.databaseUrl,
    name: `backup-schedule:${config.schema}`,
    channel: `${config.schema}_schedule`,
    retryMs: config.lockRetryMs ?? 30_000,
    logger,
    onAcquired() {
      crons.push(
        scheduled("backup", config.backupCron, () => scheduledBackup("full"), "scheduled backup did not run"),
      );
      if (config.incrementalCron)
        crons.push(
          scheduled(
            "incremental",
            config.incrementalCron,
            () => scheduledBackup("incremental"),
            "scheduled incremental backup did not run",
          ),
        );
      if (config.verifyCron)
        crons.push(scheduled("verify", config.verifyCron, scheduledVerify, "scheduled drill did not run"));
    },
    onLost: stopSchedules,
    onNotify() {},
  });

  return {
    start: () => lease.start(),
    async stop() {
      stopSchedules();
      await lease.stop();
    },
    held: () => lease.held(),
    prune,
  };
}
export type ScheduleJob = ReturnType<typeof createScheduleJob>;
