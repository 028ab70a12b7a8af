import type { Queryable } from "@nexus/kit";
import type { InstanceCandidate, InstanceNow } from "../findings/finding-fns.js";

/**
 * Present instances that may have a finding now: they refused a newer revision, are behind their
 * environment's head past its grace period, or run a hash their revision never had. The caller
 * decides exactly which findings (finding-fns); this only keeps the rows few.
 */
const BEHIND_SINCE = `LEAST(h.changed_at, (SELECT min(rh.first_seen_at) FROM revision_hashes rh
    WHERE rh.namespace = i.namespace AND rh.environment = i.environment AND rh.revision > i.revision))`;

const CANDIDATES = `
WITH grace AS (SELECT * FROM unnest($1::text[], $2::float8[]) AS g(environment, ms))
SELECT i.namespace, i.environment, i.instance_id, i.service, i.revision, i.hash,
  i.rejected_revision, i.rejected_hash, i.rejected_reason,
  h.revision AS head_revision, h.hash AS head_hash, h.changed_at AS head_changed_at,
  ${BEHIND_SINCE} AS behind_since,
  COALESCE((SELECT array_agg(rh.hash ORDER BY rh.first_seen_at, rh.hash) FROM revision_hashes rh
    WHERE rh.namespace = i.namespace AND rh.environment = i.environment AND rh.revision = i.revision),
    '{}') AS known_hashes
FROM instances i
LEFT JOIN heads h ON h.namespace = i.namespace AND h.environment = i.environment
WHERE i.gone_at IS NULL AND (
  (i.rejected_revision IS NOT NULL AND (i.revision IS NULL OR i.rejected_revision > i.revision))
  OR (i.revision IS NOT NULL AND h.revision IS NOT NULL
      AND (i.revision < h.revision OR (i.revision = h.revision AND i.hash <> h.hash))
      AND ${BEHIND_SINCE} <= $4::timestamptz - COALESCE(
        (SELECT g.ms FROM grace g WHERE g.environment = i.environment), $3::float8) * interval '1 millisecond')
  OR (i.hash IS NOT NULL AND EXISTS (SELECT 1 FROM revision_hashes rh WHERE rh.namespace = i.namespace
        AND rh.environment = i.environment AND rh.revision = i.revision)
      AND NOT EXISTS (SELECT 1 FROM revision_hashes rh WHERE rh.namespace = i.namespace
        AND rh.environment = i.environment AND rh.revision = i.revision AND rh.hash = i.hash))
)`;

export function createReconcileStore() {
  return {
    async candidates(
      db: Queryable,
      grace: { byEnvironment: Record<string, number>; defaultMs: number },
      now: Date,
    ): Promise<InstanceCandidate[]> {
      const envs = Object.keys(grace.byEnvironment);
      const res = await db.query(CANDIDATES, [
        envs,
        envs.map((e) => grace.byEnvironment[e]),
        grace.defaultMs,
        now,
      ]);
      return res.rows.map((r) => ({
        namespace: r.namespace,
        environment: r.environment,
        instanceId: r.instance_id,
        service: r.service,
        revision: r.revision,
        hash: r.hash,
        rejectedRevision: r.rejected_revision,
        rejectedHash: r.rejected_hash,
        rejectedReason: r.rejected_reason,
        headRevision: r.head_revision,
        headHash: r.head_hash,
        headChangedAt: r.head_changed_at,
        behindSince: r.behind_since,
        knownHashes: r.known_hashes,
      }));
    },

    /** Current rows of the instances named by findings, to say why those findings resolved. */
    async instancesByKey(
      db: Queryable,
      keys: readonly { namespace: string; environment: string; instanceId: string }[],
    ) {
      const map = new Map<string, InstanceNow>();
      if (keys.length === 0) return map;
      const res = await db.query(
        `SELECT i.namespace, i.environment, i.instance_id, i.revision, i.hash, i.gone_at, i.rejected_revision
         FROM instances i JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(ns, env, id)
           ON i.namespace = k.ns AND i.environment = k.env AND i.instance_id = k.id`,
        [keys.map((k) => k.namespace), keys.map((k) => k.environment), keys.map((k) => k.instanceId)],
      );
      for (const r of res.rows) {
        map.set(`${r.namespace}/${r.environment}/${r.instance_id}`, {
          revision: r.revision,
          hash: r.hash,
          goneAt: r.gone_at,
          rejectedRevision: r.rejected_revision,
        });
      }
      return map;
    },

    async heads(db: Queryable): Promise<Map<string, number>> {
      const res = await db.query("SELECT namespace, environment, revision FROM heads");
      return new Map(res.rows.map((r) => [`${r.namespace}/${r.environment}`, r.revision as number]));
    },
  };
}
export type ReconcileStore = ReturnType<typeof createReconcileStore>;
