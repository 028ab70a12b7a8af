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
        new Cron(config.backupCron, { protect: true, unref: true }, async () => {
          await scheduledBackup("full").catch((err) =>
            logger.warn({ err }, `scheduled backup did not run: ${err.message}`),
          );
        }),
      );
      if (config.incrementalCron)
        crons.push(
          new Cron(config.incrementalCron, { protect: true, unref: true }, async () => {
            await scheduledBackup("incremental").catch((err) =>
              logger.warn({ err }, `scheduled incremental backup did not run: ${err.message}`),
            );
          }),
        );
      if (config.verifyCron)
        crons.push(
          new Cron(config.verifyCron, { protect: true, unref: true }, async () => {
            await scheduledVerify().catch((err) =>
              logger.warn({ err }, `scheduled drill did not run: ${err.message}`),
            );
          }),
        );
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
