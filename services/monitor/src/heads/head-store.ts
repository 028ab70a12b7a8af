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

/**
 * One head per (namespace, environment): the highest revision, then the latest change time (the
 * rule the upsert applies; one statement may not update a row twice).
 */
export function newestPerCell(all: readonly ConfigHead[]): ConfigHead[] {
  const cells = new Map<string, ConfigHead>();
  for (const h of all) {
    const key = `${h.namespace}\u0000${h.environment}`;
    const seen = cells.get(key);
    if (
      !seen ||
      h.revision > seen.revision ||
      (h.revision === seen.revision && Date.parse(h.changedAt) > Date.parse(seen.changedAt))
    )
      cells.set(key, h);
  }
  return [...cells.values()];
}

/** Many heads in one statement (a batch of changes); the newest per cell wins. */
async function recordAll(q: Queryable, all: readonly ConfigHead[]): Promise<void> {
  const cells = newestPerCell(all);
  if (cells.length === 0) return;
  // Named: every batch of changes runs it, and Postgres then parses and plans it once per connection.
  await q.query({
    name: "monitor-record-heads",
    text: `INSERT INTO config_heads (namespace, environment, revision, hash, actor, source, changed_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
     ON CONFLICT (namespace, environment) DO UPDATE SET revision = EXCLUDED.revision, hash = EXCLUDED.hash,
       actor = EXCLUDED.actor, source = EXCLUDED.source, changed_at = EXCLUDED.changed_at
     WHERE config_heads.revision < EXCLUDED.revision
        OR (config_heads.revision = EXCLUDED.revision AND config_heads.changed_at < EXCLUDED.changed_at)`,
    values: [
      cells.map((h) => h.namespace),
      cells.map((h) => h.environment),
      cells.map((h) => h.revision),
      cells.map((h) => h.hash),
      cells.map((h) => h.actor),
      cells.map((h) => h.source),
      cells.map((h) => h.changedAt),
    ],
  });
}

export function createHeadStore() {
  return {
    recordAll,
    /** Revisions only grow; a late or repeated event changes nothing. */
    async record(q: Queryable, h: ConfigHead): Promise<void> {
      await recordAll(q, [h]);
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
