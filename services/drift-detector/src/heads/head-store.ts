import type { Queryable } from "@nexus/kit";

export interface Head {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  changedAt: Date;
  learntFrom: "event" | "registry";
  /** The trace of the change that moved it (an event's traceparent), if it was traced. */
  traceParent?: string | undefined;
}

/** A traced head the reconciler has not judged at its revision yet. */
export interface HeadToEvaluate {
  namespace: string;
  environment: string;
  revision: number;
  changedAt: Date;
  traceParent: string;
}

/**
 * What each (namespace, environment) should run. A head only moves forward: the rule (a higher
 * revision, or at the same revision a new hash from a later event; a late event for the head the
 * registry told us about only corrects when the grace period started) lives in the migration's
 * `advance_heads`, which the change consumer's batch statement uses too.
 */
const ADVANCE_HEAD = "SELECT advance_heads($1::jsonb) AS moved";

export function createHeadStore() {
  return {
    /** True when the head moved. */
    async advance(db: Queryable, head: Head): Promise<boolean> {
      const res = await db.query(ADVANCE_HEAD, [
        JSON.stringify([
          {
            namespace: head.namespace,
            environment: head.environment,
            revision: head.revision,
            hash: head.hash,
            changed_at: head.changedAt.toISOString(),
            learnt_from: head.learntFrom,
            trace_parent: head.traceParent ?? null,
          },
        ]),
      ]);
      return (res.rows[0]?.moved ?? 0) > 0;
    },

    /** Traced heads not yet judged at their revision (only asked when tracing is on). */
    async toEvaluate(db: Queryable): Promise<HeadToEvaluate[]> {
      const res = await db.query(
        `SELECT namespace, environment, revision, changed_at, trace_parent FROM heads
         WHERE trace_parent IS NOT NULL AND evaluated_revision IS DISTINCT FROM revision`,
      );
      return res.rows.map((r) => ({
        namespace: r.namespace,
        environment: r.environment,
        revision: r.revision,
        changedAt: r.changed_at,
        traceParent: r.trace_parent,
      }));
    },

    async markEvaluated(db: Queryable, evaluated: readonly HeadToEvaluate[]): Promise<void> {
      if (evaluated.length === 0) return;
      await db.query(
        `UPDATE heads h SET evaluated_revision = e.revision
         FROM unnest($1::text[], $2::text[], $3::int[]) AS e(ns, env, revision)
         WHERE h.namespace = e.ns AND h.environment = e.env AND h.revision = e.revision`,
        [
          evaluated.map((e) => e.namespace),
          evaluated.map((e) => e.environment),
          evaluated.map((e) => e.revision),
        ],
      );
    },

    async rememberHashes(
      db: Queryable,
      namespace: string,
      environment: string,
      pairs: readonly { revision: number; hash: string }[],
      seenAt: Date,
    ): Promise<void> {
      if (pairs.length === 0) return;
      await db.query(
        `INSERT INTO revision_hashes (namespace, environment, revision, hash, first_seen_at)
         SELECT $1, $2, r, h, $5 FROM unnest($3::int[], $4::text[]) AS t(r, h)
         ON CONFLICT DO NOTHING`,
        [namespace, environment, pairs.map((p) => p.revision), pairs.map((p) => p.hash), seenAt],
      );
    },

    async get(db: Queryable, namespace: string, environment: string): Promise<Head | null> {
      const res = await db.query(
        `SELECT namespace, environment, revision, hash, changed_at, learnt_from FROM heads
         WHERE namespace = $1 AND environment = $2`,
        [namespace, environment],
      );
      const r = res.rows[0];
      return r
        ? {
            namespace: r.namespace,
            environment: r.environment,
            revision: r.revision,
            hash: r.hash,
            changedAt: r.changed_at,
            learntFrom: r.learnt_from,
          }
        : null;
    },

    async list(db: Queryable): Promise<{ namespace: string; environment: string }[]> {
      const res = await db.query("SELECT namespace, environment FROM heads ORDER BY 1, 2");
      return res.rows;
    },

    /**
     * What the detector cannot judge yet: (namespace, environment) pairs with instances but no
     * head, and revisions instances run whose hashes it never saw.
     */
    async unknowns(
      db: Queryable,
    ): Promise<{ namespace: string; environment: string; revision: number | null }[]> {
      const res = await db.query(
        `SELECT DISTINCT i.namespace, i.environment, NULL::int AS revision FROM instances i
         WHERE i.gone_at IS NULL AND NOT EXISTS
           (SELECT 1 FROM heads h WHERE h.namespace = i.namespace AND h.environment = i.environment)
         UNION
         SELECT DISTINCT i.namespace, i.environment, i.revision FROM instances i
         WHERE i.gone_at IS NULL AND i.revision IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM revision_hashes r WHERE r.namespace = i.namespace
              AND r.environment = i.environment AND r.revision = i.revision)
         LIMIT 500`,
      );
      return res.rows;
    },
  };
}
export type HeadStore = ReturnType<typeof createHeadStore>;
