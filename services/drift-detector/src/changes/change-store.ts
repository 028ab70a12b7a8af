import type { Queryable } from "@nexus/kit";
import type { Change } from "../heads/head-changes.js";

/** What one batch's statement answers. */
export interface RecordedBatch {
  /** The ids (as given) of the changes not recorded before: their heads and hashes are in now. */
  fresh: ReadonlySet<string>;
  /** How many heads moved. */
  moved: number;
  /** The policies' version as this statement saw it (policies/policy-cache.ts). */
  policiesVersion: number;
  /** Of the batch's (namespace, environment) pairs, those with an unresolved policy finding. */
  openPolicyTargets: ReadonlySet<string>;
}

/** The key of a (namespace, environment) in `openPolicyTargets`. */
export const targetKey = (namespace: string, environment: string) => `${namespace}\u0000${environment}`;

/**
 * A batch of config.changed in ONE statement (no BEGIN/COMMIT: a single statement is atomic; on
 * this 2-core machine every round trip to Postgres costs more CPU than the SQL): it claims the
 * heads' idempotency keys, advances each head in stream order (advance_heads, the migration's one
 * copy of the rule), remembers every revision's hash, and reads what the policies' part needs.
 * Only changes whose key it claimed touch heads and hashes, so a redelivered batch changes nothing;
 * a concurrent duplicate waits on the key's row until the first commits, then claims nothing.
 */
const RECORD_BATCH = `
WITH batch AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS b(ord integer, id uuid, namespace text,
    environment text, revision integer, hash text, previous_revision integer, previous_hash text,
    changed_at timestamptz, trace_parent text)
), claimed AS (
  -- In id order: two instances claiming overlapping batches take the keys' locks in one order.
  INSERT INTO processed_events (consumer, event_id) SELECT DISTINCT $1::text, id FROM batch ORDER BY 2
  ON CONFLICT DO NOTHING RETURNING event_id
), fresh AS (
  SELECT * FROM batch WHERE id IN (SELECT event_id FROM claimed)
), moved AS (
  SELECT advance_heads(jsonb_agg(jsonb_build_object('namespace', namespace, 'environment', environment,
    'revision', revision, 'hash', hash, 'changed_at', changed_at, 'learnt_from', 'event',
    'trace_parent', trace_parent) ORDER BY ord)) AS n
  FROM fresh
), hashes AS (
  -- The earliest change (in stream order) that names a (revision, hash) says when it was first seen.
  INSERT INTO revision_hashes (namespace, environment, revision, hash, first_seen_at)
  SELECT namespace, environment, revision, hash, (array_agg(changed_at ORDER BY ord))[1]
  FROM (SELECT ord, namespace, environment, revision, hash, changed_at FROM fresh
        UNION ALL
        SELECT ord, namespace, environment, previous_revision, previous_hash, changed_at FROM fresh
        WHERE previous_revision IS NOT NULL AND previous_hash IS NOT NULL) AS named
  GROUP BY namespace, environment, revision, hash
  ON CONFLICT DO NOTHING
)
SELECT
  (SELECT COALESCE(array_agg(event_id::text), '{}') FROM claimed) AS fresh,
  (SELECT n FROM moved) AS moved,
  (SELECT version FROM policies_version) AS policies_version,
  (SELECT COALESCE(jsonb_agg(jsonb_build_array(o.namespace, o.environment)), '[]') FROM (
     SELECT DISTINCT f.namespace, f.environment FROM findings f
     JOIN (SELECT DISTINCT namespace, environment FROM batch) t
       ON f.namespace = t.namespace AND f.environment = t.environment
     WHERE f.status <> 'resolved' AND f.kind = 'policy') o) AS open_policy_targets`;

export function createChangeStore() {
  return {
    /** Record a batch of changes under idempotency key `consumer` (see RECORD_BATCH). */
    async record(db: Queryable, consumer: string, changes: readonly Change[]): Promise<RecordedBatch> {
      const rows = changes.map((c, ord) => ({
        ord,
        id: c.id,
        namespace: c.data.namespace,
        environment: c.data.environment,
        revision: c.data.revision,
        hash: c.data.hash,
        previous_revision: c.data.previousRevision ?? null,
        previous_hash: c.data.previousHash ?? null,
        changed_at: c.at.toISOString(),
        trace_parent: c.traceparent ?? null,
      }));
      // Named: parsed and planned once per connection, not per batch (the plan of this CTE costs
      // the backend more than running it).
      const res = await db.query({
        name: "drift-record-changes",
        text: RECORD_BATCH,
        values: [consumer, JSON.stringify(rows)],
      });
      const r = res.rows[0];
      // Postgres answers uuids in lower case; give back the ids as the caller spelt them.
      const returned = new Set<string>(r.fresh);
      return {
        fresh: new Set(changes.map((c) => c.id).filter((id) => returned.has(id.toLowerCase()))),
        moved: r.moved ?? 0,
        policiesVersion: Number(r.policies_version),
        openPolicyTargets: new Set(
          (r.open_policy_targets as [string, string][]).map(([ns, env]) => targetKey(ns, env)),
        ),
      };
    },
  };
}
export type ChangeStore = ReturnType<typeof createChangeStore>;
