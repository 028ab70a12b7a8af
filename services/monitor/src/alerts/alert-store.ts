import type { AlertSeverity } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type { AlertState, AlertStatus, Condition, OpenFinding } from "./alert-types.js";

interface Row {
  fingerprint: string;
  rule: string;
  status: AlertStatus;
  severity: AlertSeverity;
  summary: string;
  labels: Record<string, string>;
  active_since: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
}
const fromRow = (r: Row): AlertState => ({
  fingerprint: r.fingerprint,
  rule: r.rule,
  status: r.status,
  severity: r.severity,
  summary: r.summary,
  labels: r.labels,
  activeSince: r.active_since,
  firedAt: r.fired_at,
  resolvedAt: r.resolved_at,
});

export function createAlertStore() {
  return {
    async active(q: Queryable): Promise<AlertState[]> {
      const res = await q.query<Row>(
        "SELECT * FROM monitor_alerts WHERE status IN ('pending', 'firing') FOR UPDATE",
      );
      return res.rows.map(fromRow);
    },
    async list(q: Queryable, statuses: readonly AlertStatus[], limit: number): Promise<AlertState[]> {
      const res = await q.query<Row>(
        `SELECT * FROM monitor_alerts WHERE status = ANY($1)
          ORDER BY status = 'firing' DESC, updated_at DESC LIMIT $2`,
        [statuses, limit],
      );
      return res.rows.map(fromRow);
    },
    async upsert(
      q: Queryable,
      c: Condition & { activeSince: Date },
      status: "pending" | "firing",
      now: Date,
    ) {
      await q.query(
        `INSERT INTO monitor_alerts (fingerprint, rule, status, severity, summary, labels, active_since, fired_at,
                                     resolved_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)
         ON CONFLICT (fingerprint) DO UPDATE SET rule = EXCLUDED.rule, status = EXCLUDED.status,
           severity = EXCLUDED.severity, summary = EXCLUDED.summary, labels = EXCLUDED.labels,
           active_since = EXCLUDED.active_since, fired_at = EXCLUDED.fired_at, resolved_at = NULL,
           updated_at = EXCLUDED.updated_at`,
        [
          c.fingerprint,
          c.rule,
          status,
          c.severity,
          c.summary,
          JSON.stringify(c.labels),
          c.activeSince,
          status === "firing" ? now : null,
          now,
        ],
      );
    },
    async resolve(q: Queryable, fingerprint: string, now: Date) {
      await q.query(
        "UPDATE monitor_alerts SET status = 'resolved', resolved_at = $2, updated_at = $2 WHERE fingerprint = $1",
        [fingerprint, now],
      );
    },
    async drop(q: Queryable, fingerprints: readonly string[]) {
      if (fingerprints.length === 0) return;
      await q.query("DELETE FROM monitor_alerts WHERE fingerprint = ANY($1) AND status = 'pending'", [
        fingerprints,
      ]);
    },
    /** Resolved alerts older than this go (the notifier keeps the long history). */
    async sweepResolved(q: Queryable, before: Date): Promise<number> {
      const res = await q.query("DELETE FROM monitor_alerts WHERE status = 'resolved' AND resolved_at < $1", [
        before,
      ]);
      return res.rowCount ?? 0;
    },
  };
}
export type AlertStore = ReturnType<typeof createAlertStore>;

export function createFindingStore() {
  return {
    async open(q: Queryable): Promise<OpenFinding[]> {
      const res = await q.query<{
        finding_id: string;
        kind: OpenFinding["kind"];
        namespace: string;
        environment: string;
        severity: string;
        summary: string;
        opened_at: Date;
      }>(
        // A closed finding is never open, even with its row still here: drift.detected and
        // drift.resolved may be applied at the same time (a server without multi-filter
        // consumers consumes each subject on its own durable), each missing the other's row.
        `SELECT * FROM open_findings o
          WHERE NOT EXISTS (SELECT 1 FROM closed_findings c WHERE c.finding_id = o.finding_id)
          ORDER BY opened_at`,
      );
      return res.rows.map((r) => ({
        findingId: r.finding_id,
        kind: r.kind,
        namespace: r.namespace,
        environment: r.environment,
        severity: r.severity,
        summary: r.summary,
        openedAt: r.opened_at,
      }));
    },
    /** Open, unless it was closed already (a drift.detected redelivered after its drift.resolved). */
    async opened(q: Queryable, f: OpenFinding) {
      await q.query(
        `INSERT INTO open_findings (finding_id, kind, namespace, environment, severity, summary, opened_at)
         SELECT $1, $2, $3, $4, $5, $6, $7
          WHERE NOT EXISTS (SELECT 1 FROM closed_findings WHERE finding_id = $1)
         ON CONFLICT (finding_id) DO UPDATE SET severity = EXCLUDED.severity, summary = EXCLUDED.summary`,
        [f.findingId, f.kind, f.namespace, f.environment, f.severity, f.summary, f.openedAt],
      );
    },
    async closed(q: Queryable, findingId: string) {
      await q.query(
        `WITH gone AS (DELETE FROM open_findings WHERE finding_id = $1)
         INSERT INTO closed_findings (finding_id) VALUES ($1) ON CONFLICT DO NOTHING`,
        [findingId],
      );
    },
    /** Forgets findings closed before `before`, with any open row a crossing detected left. */
    async sweepClosed(q: Queryable, before: Date): Promise<void> {
      await q.query(
        `WITH gone AS (DELETE FROM closed_findings WHERE closed_at < $1 RETURNING finding_id)
         DELETE FROM open_findings WHERE finding_id IN (SELECT finding_id FROM gone)`,
        [before],
      );
    },
  };
}
export type FindingStore = ReturnType<typeof createFindingStore>;
