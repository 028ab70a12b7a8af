import type { Queryable } from "@nexus/kit";
import type { PendingInstance } from "./inventory-types.js";

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

const NEWER = `(EXCLUDED.reported_at IS NOT NULL AND (i.reported_at IS NULL
  OR EXCLUDED.reported_at > i.reported_at
  OR (EXCLUDED.reported_at = i.reported_at AND EXCLUDED.revision > i.revision)))`;
const REJECTION_NEWER = `(EXCLUDED.rejected_at IS NOT NULL AND (i.rejected_at IS NULL
  OR EXCLUDED.rejected_at > i.rejected_at
  OR (EXCLUDED.rejected_at = i.rejected_at
    AND COALESCE(EXCLUDED.rejected_revision, -1) > COALESCE(i.rejected_revision, -1))))`;
const ifNewer = (col: string) => `${col} = CASE WHEN ${NEWER} THEN EXCLUDED.${col} ELSE i.${col} END`;
const ifRejectionNewer = (col: string) =>
  `${col} = CASE WHEN ${REJECTION_NEWER} THEN EXCLUDED.${col} ELSE i.${col} END`;

/**
 * Upsert a batch of merged reports, and record each revision report, in one statement (one round
 * trip per flush, and both or neither are in). The ordering rule of inventory-fns lives
 * here too, so two detector instances writing the same instance (or a redelivered report) can
 * never move it backwards: running state by (reported_at, revision), rejection by rejected_at,
 * last_seen_at only grows. Re-applying a batch changes nothing, which is what makes acking after
 * the flush safe without a processed-events row per heartbeat.
 */
const WRITE_REPORTS = `
WITH upserted AS (
INSERT INTO instances AS i (namespace, environment, instance_id, service, revision, hash, status,
  reported_at, last_seen_at, first_seen_at, interval_seconds, rejected_revision, rejected_hash,
  rejected_reason, rejected_at, gone_at)
SELECT namespace, environment, instance_id, service, revision, hash, status, reported_at,
  last_seen_at, last_seen_at, COALESCE(interval_seconds, 0), rejected_revision, rejected_hash,
  rejected_reason, rejected_at, CASE WHEN status = 'stopping' THEN reported_at END
FROM jsonb_to_recordset($1::jsonb) AS b(
  namespace text, environment text, instance_id text, service text,
  revision integer, hash text, status text, reported_at timestamptz,
  rejected_revision integer, rejected_hash text, rejected_reason text, rejected_at timestamptz,
  last_seen_at timestamptz, interval_seconds integer)
ON CONFLICT (namespace, environment, instance_id) DO UPDATE SET
  service = EXCLUDED.service,
  -- A clean stop makes it gone at once; a newer report brings a gone instance back.
  gone_at = CASE
    WHEN ${NEWER} AND EXCLUDED.status = 'stopping' THEN EXCLUDED.reported_at
    WHEN ${NEWER} THEN NULL
    ELSE i.gone_at END,
  ${["revision", "hash", "status", "reported_at"].map(ifNewer).join(",\n  ")},
  ${["rejected_revision", "rejected_hash", "rejected_reason", "rejected_at"].map(ifRejectionNewer).join(",\n  ")},
  last_seen_at = GREATEST(i.last_seen_at, EXCLUDED.last_seen_at),
  interval_seconds = CASE WHEN EXCLUDED.interval_seconds > 0 THEN EXCLUDED.interval_seconds
    ELSE i.interval_seconds END
)
INSERT INTO revision_reports (namespace, environment, revision, instance_id, status, reported_at)
SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(namespace text, environment text, revision integer,
  instance_id text, status text, reported_at timestamptz)
ON CONFLICT (namespace, environment, revision, instance_id, status)
DO UPDATE SET reported_at = LEAST(revision_reports.reported_at, EXCLUDED.reported_at)`;

export function createInventoryStore() {
  return {
    async upsert(db: Queryable, batch: readonly PendingInstance[]): Promise<void> {
      if (batch.length === 0) return;
      const rows = batch.map((p) => ({
        namespace: p.namespace,
        environment: p.environment,
        instance_id: p.instanceId,
        service: p.service,
        revision: p.running?.revision ?? null,
        hash: p.running?.hash ?? null,
        status: p.running?.status ?? null,
        reported_at: iso(p.running?.at),
        rejected_revision: p.rejection?.revision ?? null,
        rejected_hash: p.rejection?.hash ?? null,
        rejected_reason: p.rejection?.reason ?? null,
        rejected_at: iso(p.rejection?.at),
        last_seen_at: iso(p.lastSeenAt),
        interval_seconds: p.intervalSeconds,
      }));
      const reports = batch.flatMap((p) =>
        p.reports.map((r) => ({
          namespace: p.namespace,
          environment: p.environment,
          revision: r.revision,
          instance_id: p.instanceId,
          status: r.status,
          reported_at: iso(r.at),
        })),
      );
      await db.query(WRITE_REPORTS, [JSON.stringify(rows), JSON.stringify(reports)]);
    },

    /** Instances silent for longer than `goneAfterMs` and 3 of their own intervals are gone. */
    async markGone(db: Queryable, goneAfterMs: number, judgedAt: Date): Promise<number> {
      const res = await db.query(
        `UPDATE instances SET gone_at = now()
         WHERE gone_at IS NULL
           AND last_seen_at < $2::timestamptz - GREATEST($1::double precision, interval_seconds * 3000.0) * interval '1 millisecond'`,
        [goneAfterMs, judgedAt],
      );
      return res.rowCount ?? 0;
    },

    async deleteGone(db: Queryable, deleteAfterMs: number): Promise<number> {
      const res = await db.query(
        `DELETE FROM instances WHERE gone_at < now() - $1::double precision * interval '1 millisecond'`,
        [deleteAfterMs],
      );
      return res.rowCount ?? 0;
    },
  };
}
export type InventoryStore = ReturnType<typeof createInventoryStore>;
