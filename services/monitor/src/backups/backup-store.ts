import type { BackupFailed, BackupVerified } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type { BackupStatus } from "./backup-types.js";

/** Newest wins: a redelivered or late older event never replaces a newer outcome. */
export function createBackupStatusStore() {
  return {
    /**
     * Starts the overdue clock of each kind the first time a monitor watches this database. Not a
     * migration default: a database migrated long before the monitor first runs (or cloned from a
     * migrated template) would otherwise count a backup overdue from before anyone watched.
     */
    async startWatching(q: Queryable) {
      await q.query(
        `INSERT INTO backup_status (kind) VALUES ('full'), ('incremental') ON CONFLICT (kind) DO NOTHING`,
      );
    },
    async all(q: Queryable): Promise<BackupStatus[]> {
      const res = await q.query<{
        kind: BackupStatus["kind"];
        watched_since: Date;
        verified_at: Date | null;
        verified_backup_id: string | null;
        failed_at: Date | null;
        failed_backup_id: string | null;
        failed_stage: string | null;
        failure_reason: string | null;
      }>("SELECT * FROM backup_status ORDER BY kind");
      return res.rows.map((r) => ({
        kind: r.kind,
        watchedSince: r.watched_since,
        verifiedAt: r.verified_at,
        verifiedBackupId: r.verified_backup_id,
        failedAt: r.failed_at,
        failedBackupId: r.failed_backup_id,
        failedStage: r.failed_stage,
        failureReason: r.failure_reason,
      }));
    },
    async verified(q: Queryable, e: BackupVerified) {
      await q.query(
        `UPDATE backup_status SET verified_at = $2, verified_backup_id = $3
          WHERE kind = $1 AND (verified_at IS NULL OR verified_at < $2)`,
        [e.kind, e.verifiedAt, e.backupId],
      );
    },
    async failed(q: Queryable, e: BackupFailed) {
      await q.query(
        `UPDATE backup_status SET failed_at = $2, failed_backup_id = $3, failed_stage = $4, failure_reason = $5
          WHERE kind = $1 AND (failed_at IS NULL OR failed_at < $2)`,
        [e.kind, e.failedAt, e.backupId, e.stage, e.reason],
      );
    },
  };
}
export type BackupStatusStore = ReturnType<typeof createBackupStatusStore>;
