import type { ConfigChanged } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";

/** What a (namespace, environment) runs: the dashboard's grid cell. */
export interface ConfigHead {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  actor: string;
  source: string;
  changedAt: string;
}

export const headOfEvent = (d: ConfigChanged, time: string): ConfigHead => ({
  namespace: d.namespace,
  environment: d.environment,
  revision: d.revision,
  hash: d.hash,
  actor: d.actor,
  source: d.source,
  changedAt: time,
});

interface HeadRow {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  actor: string;
  source: string;
  changed_at: Date;
}
const fromRow = (r: HeadRow): ConfigHead => ({
  namespace: r.namespace,
  environment: r.environment,
  revision: r.revision,
  hash: r.hash,
  actor: r.actor,
  source: r.source,
  changedAt: r.changed_at.toISOString(),
});

export function createHeadStore() {
  return {
    /** Revisions only grow; a late or repeated event changes nothing. */
    async record(q: Queryable, h: ConfigHead): Promise<void> {
      await q.query(
        `INSERT INTO config_heads (namespace, environment, revision, hash, actor, source, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (namespace, environment) DO UPDATE SET revision = EXCLUDED.revision, hash = EXCLUDED.hash,
           actor = EXCLUDED.actor, source = EXCLUDED.source, changed_at = EXCLUDED.changed_at
         WHERE config_heads.revision < EXCLUDED.revision
            OR (config_heads.revision = EXCLUDED.revision AND config_heads.changed_at < EXCLUDED.changed_at)`,
        [h.namespace, h.environment, h.revision, h.hash, h.actor, h.source, h.changedAt],
      );
    },
    async get(q: Queryable, namespace: string, environment: string): Promise<ConfigHead | null> {
      const res = await q.query<HeadRow>(
        "SELECT * FROM config_heads WHERE namespace = $1 AND environment = $2",
        [namespace, environment],
      );
      return res.rows[0] ? fromRow(res.rows[0]) : null;
    },
    async list(q: Queryable, limit: number): Promise<ConfigHead[]> {
      const res = await q.query<HeadRow>(
        "SELECT * FROM config_heads ORDER BY namespace, environment LIMIT $1",
        [limit],
      );
      return res.rows.map(fromRow);
    },
  };
}
export type HeadStore = ReturnType<typeof createHeadStore>;
