import type { Pool } from "@nexus/kit";
import { Gauge, type Registry } from "prom-client";

/**
 * When the last backup of each kind completed, was verified, and failed (a backup or a drill), as
 * Unix seconds read from the catalogue at each scrape: an alert rule can say "no verified backup
 * for 26 hours" (overdue) or "a failure newer than the last success" without the service
 * keeping any state of its own.
 */
export function registerBackupMetrics(registry: Registry, pool: Pool): void {
  new Gauge({
    name: "nexus_backup_last_completed_timestamp_seconds",
    help: "When the newest completed backup of each kind was taken (its snapshot), Unix seconds",
    labelNames: ["kind"],
    registers: [registry],
    async collect() {
      const r = await pool.query<{ kind: string; at: number }>(
        `SELECT kind, extract(epoch FROM max(snapshot_at))::float8 AS at FROM backups
          WHERE status IN ('completed', 'pruned') GROUP BY kind`,
      );
      for (const row of r.rows) this.set({ kind: row.kind }, row.at);
    },
  });
  new Gauge({
    name: "nexus_backup_last_verified_timestamp_seconds",
    help: "When a backup was last verified by a restore into a scratch schema, Unix seconds",
    registers: [registry],
    async collect() {
      const r = await pool.query<{ at: number | null }>(
        "SELECT extract(epoch FROM max(finished_at))::float8 AS at FROM verifications WHERE status = 'verified'",
      );
      if (r.rows[0]?.at) this.set(r.rows[0].at);
    },
  });
  new Gauge({
    name: "nexus_backup_last_failure_timestamp_seconds",
    help: "When a backup or a verification last failed, Unix seconds",
    registers: [registry],
    async collect() {
      const r = await pool.query<{ at: number | null }>(
        `SELECT extract(epoch FROM greatest(
            (SELECT max(finished_at) FROM backups WHERE status = 'failed'),
            (SELECT max(finished_at) FROM verifications WHERE status = 'failed')))::float8 AS at`,
      );
      if (r.rows[0]?.at) this.set(r.rows[0].at);
    },
  });
}
