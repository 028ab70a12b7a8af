import type { BackupKind } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type { BundleProgress } from "../bundle/bundle-writer.js";
import type { BackupDto, RestoreDto, VerificationDto } from "./backup-types.js";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const num = (v: string | number | null) => (v === null ? null : Number(v));

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const backupOf = (r: any): BackupDto => ({
  id: r.id,
  kind: r.kind,
  parentId: r.parent_id,
  status: r.status,
  trigger: r.trigger,
  requestedBy: r.requested_by,
  storage: r.storage,
  startedAt: r.started_at.toISOString(),
  finishedAt: iso(r.finished_at),
  snapshotAt: iso(r.snapshot_at),
  tables: r.tables,
  rows: num(r.rows),
  bytes: num(r.bytes),
  manifestSha256: r.manifest_sha256,
  encryptionKeyId: r.encryption_key_id,
  progress: r.progress,
  error: r.error,
  verification: r.verification,
  verifiedAt: iso(r.verified_at),
  verificationError: r.verification_error,
});

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const restoreOf = (r: any): RestoreDto => ({
  id: r.id,
  backupId: r.backup_id,
  scope: r.scope,
  namespace: r.namespace,
  at: iso(r.restore_at),
  status: r.status,
  requestedBy: r.requested_by,
  startedAt: r.started_at.toISOString(),
  finishedAt: iso(r.finished_at),
  progress: r.progress,
  tables: r.tables,
  rows: num(r.rows),
  layers: r.layers,
  error: r.error,
});

export function createBackupStore() {
  return {
    async insert(
      db: Queryable,
      b: {
        id: string;
        kind: string;
        parentId: string | null;
        trigger: string;
        requestedBy: string;
        storage: string;
        keyId: string | null;
      },
    ): Promise<BackupDto> {
      const r = await db.query(
        `INSERT INTO backups (id, kind, parent_id, status, trigger, requested_by, storage, encryption_key_id, progress)
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, '{"stage":"starting"}') RETURNING *`,
        [b.id, b.kind, b.parentId, b.trigger, b.requestedBy, b.storage, b.keyId],
      );
      return backupOf(r.rows[0]);
    },
    /** A backup found in storage that the catalogue does not know (the catalogue was lost with the database). */
    async adopt(
      db: Queryable,
      b: {
        id: string;
        kind: string;
        parentId: string | null;
        storage: string;
        createdAt: string;
        snapshotAt: string;
        tables: number;
        rows: number;
        bytes: number;
        manifestSha256: string;
        keyId: string | null;
      },
    ): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO backups (id, kind, status, trigger, requested_by, storage, started_at, finished_at, snapshot_at,
                              tables, rows, bytes, manifest_sha256, encryption_key_id, progress)
         VALUES ($1, $2, 'completed', 'api', 'found in storage', $3, $4, $4, $5, $6, $7, $8, $9, $10, '{"stage":"done"}')
         ON CONFLICT (id) DO NOTHING`,
        [
          b.id,
          b.kind,
          b.storage,
          b.createdAt,
          b.snapshotAt,
          b.tables,
          b.rows,
          b.bytes,
          b.manifestSha256,
          b.keyId,
        ],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async progress(db: Queryable, id: string, p: BundleProgress & { stage?: string }): Promise<void> {
      await db.query("UPDATE backups SET progress = $2 WHERE id = $1", [id, JSON.stringify(p)]);
    },
    async completed(
      db: Queryable,
      id: string,
      r: { snapshotAt: string; tables: number; rows: number; bytes: number; manifestSha256: string },
    ): Promise<void> {
      await db.query(
        `UPDATE backups SET status = 'completed', finished_at = now(), snapshot_at = $2, tables = $3, rows = $4,
                bytes = $5, manifest_sha256 = $6, progress = progress - 'current' || '{"stage":"done"}'
          WHERE id = $1`,
        [id, r.snapshotAt, r.tables, r.rows, r.bytes, r.manifestSha256],
      );
    },
    async failed(db: Queryable, id: string, error: string): Promise<void> {
      await db.query(
        `UPDATE backups SET status = 'failed', finished_at = now(), error = $2,
                progress = progress || '{"stage":"failed"}' WHERE id = $1`,
        [id, error],
      );
    },
    /** Backups left `running` by a process that died (the caller holds the run lock, so none runs). */
    async failInterrupted(db: Queryable): Promise<{ id: string; kind: BackupKind; error: string }[]> {
      const r = await db.query<{ id: string; kind: BackupKind; error: string }>(
        `UPDATE backups SET status = 'failed', finished_at = now(),
                error = 'interrupted: the backup service stopped during the backup'
          WHERE status = 'running' RETURNING id, kind, error`,
      );
      return r.rows;
    },
    async get(db: Queryable, id: string): Promise<BackupDto | undefined> {
      const r = await db.query("SELECT * FROM backups WHERE id = $1", [id]);
      return r.rows[0] ? backupOf(r.rows[0]) : undefined;
    },
    async list(db: Queryable, limit: number, includePruned = false): Promise<BackupDto[]> {
      const r = await db.query(
        `SELECT * FROM backups WHERE $2 OR status <> 'pruned' ORDER BY started_at DESC, id DESC LIMIT $1`,
        [limit, includePruned],
      );
      return r.rows.map(backupOf);
    },
    /** A drill's row (the caller holds the backup's drill lock, so a `running` one left behind was interrupted). */
    async startVerification(db: Queryable, backupId: string): Promise<number> {
      await db.query(
        `UPDATE verifications SET status = 'failed', finished_at = now(),
                error = 'interrupted: the backup service stopped during the drill'
          WHERE backup_id = $1 AND status = 'running'`,
        [backupId],
      );
      await db.query("UPDATE backups SET verification = 'running' WHERE id = $1", [backupId]);
      const r = await db.query<{ id: string }>(
        "INSERT INTO verifications (backup_id, status) VALUES ($1, 'running') RETURNING id",
        [backupId],
      );
      return Number(r.rows[0]!.id);
    },
    async finishVerification(
      db: Queryable,
      v: {
        id: number;
        backupId: string;
        ok: boolean;
        durationMs: number;
        error: string | null;
        tables: unknown[];
      },
    ): Promise<void> {
      await db.query(
        `UPDATE verifications SET status = $2, finished_at = now(), duration_ms = $3, error = $4, tables = $5 WHERE id = $1`,
        [v.id, v.ok ? "verified" : "failed", v.durationMs, v.error, JSON.stringify(v.tables)],
      );
      await db.query(
        `UPDATE backups SET verification = $2, verified_at = CASE WHEN $3 THEN now() ELSE verified_at END,
                verification_error = $4 WHERE id = $1`,
        [v.backupId, v.ok ? "verified" : "failed", v.ok, v.error],
      );
    },
    async verifications(db: Queryable, backupId: string): Promise<VerificationDto[]> {
      const r = await db.query("SELECT * FROM verifications WHERE backup_id = $1 ORDER BY id DESC LIMIT 20", [
        backupId,
      ]);
      return r.rows.map((v) => ({
        id: Number(v.id),
        backupId: v.backup_id,
        status: v.status,
        startedAt: v.started_at.toISOString(),
        finishedAt: iso(v.finished_at),
        durationMs: v.duration_ms,
        error: v.error,
        tables: v.tables,
      }));
    },
    /** The catalogue's checksum of a backup's manifest (null when it has none). */
    async manifestSha256(db: Queryable, id: string): Promise<string | null> {
      const r = await db.query<{ manifest_sha256: string | null }>(
        "SELECT manifest_sha256 FROM backups WHERE id = $1",
        [id],
      );
      return r.rows[0]?.manifest_sha256 ?? null;
    },
    async markPruned(db: Queryable, id: string): Promise<void> {
      await db.query("UPDATE backups SET status = 'pruned', pruned_at = now() WHERE id = $1", [id]);
    },
    async insertRestore(
      db: Queryable,
      r: { id: string; backupId: string; requestedBy: string; namespace?: string; at?: string | null },
    ): Promise<RestoreDto> {
      const res = await db.query(
        `INSERT INTO restores (id, backup_id, scope, namespace, restore_at, status, requested_by, progress)
         VALUES ($1, $2, $3, $4, $5, 'running', $6, '{"stage":"checking the bundle"}') RETURNING *`,
        [
          r.id,
          r.backupId,
          r.namespace ? "namespace" : "system",
          r.namespace ?? null,
          r.at ?? null,
          r.requestedBy,
        ],
      );
      return restoreOf(res.rows[0]);
    },
    /** Restores left `running` by a process that died (the caller holds the restore lock). */
    async failInterruptedRestores(db: Queryable): Promise<void> {
      await db.query(
        `UPDATE restores SET status = 'failed', finished_at = now(),
                error = CASE scope
                  WHEN 'system' THEN 'interrupted: the backup service stopped during the restore (its transaction was rolled back)'
                  ELSE 'interrupted: the backup service stopped during the restore; the namespace''s revisions with source restore:' || backup_id || '@… show whether the registry wrote it'
                END
          WHERE status = 'running'`,
      );
    },
    async restoreProgress(db: Queryable, id: string, p: Record<string, unknown>): Promise<void> {
      await db.query("UPDATE restores SET progress = $2 WHERE id = $1", [id, JSON.stringify(p)]);
    },
    async finishRestore(
      db: Queryable,
      id: string,
      r: { ok: boolean; tables?: number; rows?: number; error?: string; layers?: unknown[] },
    ): Promise<void> {
      await db.query(
        `UPDATE restores SET status = $2, finished_at = now(), tables = $3, rows = $4, error = $5, layers = $6,
                progress = progress - 'current' || jsonb_build_object('stage', $2::text) WHERE id = $1`,
        [
          id,
          r.ok ? "completed" : "failed",
          r.tables ?? null,
          r.rows ?? null,
          r.error ?? null,
          r.layers ? JSON.stringify(r.layers) : null,
        ],
      );
    },
    async getRestore(db: Queryable, id: string): Promise<RestoreDto | undefined> {
      const r = await db.query("SELECT * FROM restores WHERE id = $1", [id]);
      return r.rows[0] ? restoreOf(r.rows[0]) : undefined;
    },
  };
}
export type BackupStore = ReturnType<typeof createBackupStore>;
