import type { Queryable } from "@nexus/kit";

/**
 * Deletes of old history, a batch at a time (short locks, bounded WAL per statement). Each returns
 * how many rows went.
 */
export function createRetentionStore() {
  return {
    /** Resolved findings resolved before `before` (their remediations go with them: ON DELETE CASCADE). */
    async resolvedFindingsBefore(db: Queryable, before: Date, limit: number): Promise<number> {
      const res = await db.query(
        `DELETE FROM findings WHERE id IN (
           SELECT id FROM findings WHERE status = 'resolved' AND resolved_at < $1
           ORDER BY resolved_at LIMIT $2)`,
        [before, limit],
      );
      return res.rowCount ?? 0;
    },

    /**
     * Applied/rejected reports older than `before`, except those of the revision each
     * (namespace, environment) should run now: the convergence view of the current revision stays
     * whole however long it has been current.
     */
    async reportsBefore(db: Queryable, before: Date, limit: number): Promise<number> {
      const res = await db.query(
        `DELETE FROM revision_reports WHERE ctid IN (
           SELECT r.ctid FROM revision_reports r
           LEFT JOIN heads h ON h.namespace = r.namespace AND h.environment = r.environment
           WHERE r.reported_at < $1 AND (h.revision IS NULL OR r.revision <> h.revision)
           LIMIT $2)`,
        [before, limit],
      );
      return res.rowCount ?? 0;
    },
  };
}
export type RetentionStore = ReturnType<typeof createRetentionStore>;
