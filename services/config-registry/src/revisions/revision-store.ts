import type { Queryable } from "@nexus/kit";
import type { Revision, RevisionSummary } from "./revision-types.js";

interface RevisionRow {
  namespace: string;
  revision: number;
  layer: string;
  content?: Record<string, unknown>;
  hash: string;
  diff?: unknown[];
  author: string;
  message: string;
  source: string;
  created_at: Date;
}

const toSummary = (r: RevisionRow): RevisionSummary => ({
  namespace: r.namespace,
  revision: r.revision,
  layer: r.layer,
  hash: r.hash,
  author: r.author,
  message: r.message,
  source: r.source,
  createdAt: r.created_at.toISOString(),
});

const toRevision = (r: RevisionRow): Revision => ({
  ...toSummary(r),
  content: r.content ?? {},
  diff: r.diff ?? [],
});

/** Values of the revision INSERT, in column order (namespace … source); shared with the layer write. */
export const revisionInsertParams = (rev: Omit<Revision, "createdAt">): unknown[] => [
  rev.namespace,
  rev.revision,
  rev.layer,
  JSON.stringify(rev.content),
  rev.hash,
  JSON.stringify(rev.diff),
  rev.author,
  rev.message,
  rev.source,
];

export function createRevisionStore() {
  return {
    async insert(q: Queryable, rev: Omit<Revision, "createdAt">): Promise<void> {
      await q.query(
        `INSERT INTO revisions (namespace, revision, layer, content, hash, diff, author, message, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        revisionInsertParams(rev),
      );
    },

    async find(q: Queryable, namespace: string, layer: string, revision: number): Promise<Revision | null> {
      const res = await q.query<RevisionRow>(
        "SELECT * FROM revisions WHERE namespace = $1 AND layer = $2 AND revision = $3",
        [namespace, layer, revision],
      );
      return res.rows[0] ? toRevision(res.rows[0]) : null;
    },

    async list(
      q: Queryable,
      namespace: string,
      layer: string,
      options: { limit: number; before?: number | undefined },
    ): Promise<RevisionSummary[]> {
      const res = await q.query<RevisionRow>(
        `SELECT namespace, revision, layer, hash, author, message, source, created_at FROM revisions
         WHERE namespace = $1 AND layer = $2 AND ($3::int IS NULL OR revision < $3)
         ORDER BY revision DESC LIMIT $4`,
        [namespace, layer, options.before ?? null, options.limit],
      );
      return res.rows.map(toSummary);
    },
  };
}
export type RevisionStore = ReturnType<typeof createRevisionStore>;
