import type { Queryable } from "@nexus/kit";
import type { RoutingConfig } from "./routing-types.js";

export interface RoutingVersion {
  version: number;
  config: RoutingConfig;
  author: string;
  comment: string;
  createdAt: string;
}

interface Row {
  version: number;
  config: RoutingConfig;
  author: string;
  comment: string;
  created_at: Date;
}

const toVersion = (r: Row): RoutingVersion => ({
  version: r.version,
  config: r.config,
  author: r.author,
  comment: r.comment,
  createdAt: r.created_at.toISOString(),
});

export function createRoutingStore() {
  return {
    async latest(q: Queryable): Promise<RoutingVersion | null> {
      const res = await q.query<Row>("SELECT * FROM routing_versions ORDER BY version DESC LIMIT 1");
      return res.rows[0] ? toVersion(res.rows[0]) : null;
    },

    async latestVersionNumber(q: Queryable): Promise<number> {
      const res = await q.query<{ v: number | null }>("SELECT max(version) AS v FROM routing_versions");
      return res.rows[0]?.v ?? 0;
    },

    async get(q: Queryable, version: number): Promise<RoutingVersion | null> {
      const res = await q.query<Row>("SELECT * FROM routing_versions WHERE version = $1", [version]);
      return res.rows[0] ? toVersion(res.rows[0]) : null;
    },

    async list(q: Queryable, limit: number, before?: number): Promise<RoutingVersion[]> {
      const res = await q.query<Row>(
        "SELECT * FROM routing_versions WHERE ($2::int IS NULL OR version < $2) ORDER BY version DESC LIMIT $1",
        [limit, before ?? null],
      );
      return res.rows.map(toVersion);
    },

    /** False when `version` is taken (someone else saved a version first). */
    async insert(q: Queryable, v: Omit<RoutingVersion, "createdAt">): Promise<boolean> {
      const res = await q.query(
        `INSERT INTO routing_versions (version, config, author, comment) VALUES ($1, $2, $3, $4)
         ON CONFLICT (version) DO NOTHING`,
        [v.version, JSON.stringify(v.config), v.author, v.comment],
      );
      return res.rowCount === 1;
    },
  };
}
export type RoutingStore = ReturnType<typeof createRoutingStore>;
