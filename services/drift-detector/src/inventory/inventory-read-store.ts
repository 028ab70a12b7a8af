import type { Queryable } from "@nexus/kit";

// biome-ignore lint/suspicious/noExplicitAny: pg rows
type Row = Record<string, any>;

export function createInventoryReadStore() {
  return {
    /** Instances per state: gone, or the status of the last report (`unreported` before one) (metrics). */
    async countByState(db: Queryable): Promise<{ state: string; n: number }[]> {
      const res = await db.query(
        `SELECT CASE WHEN gone_at IS NOT NULL THEN 'gone' ELSE coalesce(status, 'unreported') END AS state,
                count(*)::int AS n
         FROM instances GROUP BY 1`,
      );
      return res.rows;
    },
    async instances(
      db: Queryable,
      namespace: string,
      environment: string,
      includeGone: boolean,
    ): Promise<Row[]> {
      const res = await db.query(
        `SELECT instance_id, service, revision, hash, status, reported_at, last_seen_at, first_seen_at,
           interval_seconds, rejected_revision, rejected_reason, gone_at
         FROM instances WHERE namespace = $1 AND environment = $2 AND ($3 OR gone_at IS NULL)
         ORDER BY service, instance_id`,
        [namespace, environment, includeGone],
      );
      return res.rows;
    },

    /** Per revision, newest first: when it was first seen, acks, and where present instances are now. */
    async convergence(db: Queryable, namespace: string, environment: string, limit: number): Promise<Row[]> {
      const res = await db.query(
        `WITH revs AS (
           SELECT revision, min(first_seen_at) AS published_at FROM revision_hashes
           WHERE namespace = $1 AND environment = $2 GROUP BY revision ORDER BY revision DESC LIMIT $3
         ),
         present AS (
           SELECT revision FROM instances WHERE namespace = $1 AND environment = $2 AND gone_at IS NULL
         )
         SELECT r.revision, r.published_at,
           (SELECT count(DISTINCT instance_id) FROM revision_reports p WHERE p.namespace = $1
              AND p.environment = $2 AND p.revision = r.revision AND p.status = 'applied')::int AS applied,
           (SELECT count(DISTINCT instance_id) FROM revision_reports p WHERE p.namespace = $1
              AND p.environment = $2 AND p.revision = r.revision AND p.status = 'rejected')::int AS rejected,
           (SELECT max(reported_at) FROM revision_reports p WHERE p.namespace = $1
              AND p.environment = $2 AND p.revision = r.revision AND p.status = 'applied') AS last_applied_at,
           (SELECT count(*) FROM present WHERE present.revision = r.revision)::int AS running,
           (SELECT count(*) FROM present WHERE present.revision < r.revision)::int AS older
         FROM revs r ORDER BY r.revision DESC`,
        [namespace, environment, limit],
      );
      return res.rows;
    },

    /**
     * For every namespace/environment the detector knows a head of: its newest revision's acks
     * and where its present instances are (the same figures as `convergence`, one row per head, one
     * statement for all: what a dashboard showing the whole grid needs).
     */
    async latestConvergence(db: Queryable): Promise<Row[]> {
      const res = await db.query(
        `SELECT h.namespace, h.environment, r.revision, r.published_at, rep.applied, rep.rejected,
                rep.last_applied_at, pres.running, pres.older
           FROM heads h
           CROSS JOIN LATERAL (
             SELECT revision, min(first_seen_at) AS published_at FROM revision_hashes
              WHERE namespace = h.namespace AND environment = h.environment
              GROUP BY revision ORDER BY revision DESC LIMIT 1
           ) r
           CROSS JOIN LATERAL (
             SELECT count(DISTINCT instance_id) FILTER (WHERE status = 'applied')::int AS applied,
                    count(DISTINCT instance_id) FILTER (WHERE status = 'rejected')::int AS rejected,
                    max(reported_at) FILTER (WHERE status = 'applied') AS last_applied_at
               FROM revision_reports p
              WHERE p.namespace = h.namespace AND p.environment = h.environment AND p.revision = r.revision
           ) rep
           CROSS JOIN LATERAL (
             SELECT count(*) FILTER (WHERE i.revision = r.revision)::int AS running,
                    count(*) FILTER (WHERE i.revision < r.revision)::int AS older
               FROM instances i
              WHERE i.namespace = h.namespace AND i.environment = h.environment AND i.gone_at IS NULL
           ) pres
          ORDER BY h.namespace, h.environment`,
      );
      return res.rows;
    },

    /**
     * One revision in one environment, for the timeline of a change: when the detector processed
     * its config.changed (`eventIds`, from the registry), each instance's applied/rejected report,
     * and the findings about it.
     */
    async revisionTrace(
      db: Queryable,
      namespace: string,
      environment: string,
      revision: number,
      heads: { consumer: string; eventIds: string[] },
    ): Promise<{ learntAt: Date | null; reports: Row[]; findings: Row[] }> {
      const [learnt, reports, findings] = await Promise.all([
        // When this detector processed the revision's config.changed (its heads consumer).
        db.query(
          `SELECT min(processed_at) AS learnt_at FROM processed_events
           WHERE consumer = $1 AND event_id = ANY($2::uuid[])`,
          [heads.consumer, heads.eventIds],
        ),
        db.query(
          `SELECT p.instance_id, i.service, p.status, p.reported_at FROM revision_reports p
           LEFT JOIN instances i USING (namespace, environment, instance_id)
           WHERE p.namespace = $1 AND p.environment = $2 AND p.revision = $3
           ORDER BY p.reported_at, p.instance_id`,
          [namespace, environment, revision],
        ),
        db.query(
          `SELECT id, kind, severity, status, summary, first_seen_at, resolved_at FROM findings
           WHERE namespace = $1 AND environment = $2 AND (expected_revision = $3 OR actual_revision = $3)
           ORDER BY first_seen_at`,
          [namespace, environment, revision],
        ),
      ]);
      return { learntAt: learnt.rows[0]?.learnt_at ?? null, reports: reports.rows, findings: findings.rows };
    },
  };
}
export type InventoryReadStore = ReturnType<typeof createInventoryReadStore>;
