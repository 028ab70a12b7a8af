import type { RevisionEventDto } from "@nexus/contracts";
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

    /** Each of `layers` as it was at namespace revision `revision`: its newest revision not after it. */
    async layersAt(
      q: Queryable,
      namespace: string,
      layers: readonly string[],
      revision: number,
    ): Promise<Map<string, { revision: number; content: Record<string, unknown> }>> {
      const res = await q.query<{ layer: string; revision: number; content: Record<string, unknown> }>(
        `SELECT DISTINCT ON (layer) layer, revision, content FROM revisions
         WHERE namespace = $1 AND layer = ANY($2::text[]) AND revision <= $3
         ORDER BY layer, revision DESC`,
        [namespace, layers, revision],
      );
      return new Map(res.rows.map((r) => [r.layer, { revision: r.revision, content: r.content }]));
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

    /** The revision whatever its layer (revisions are numbered per namespace). */
    async findAnyLayer(q: Queryable, namespace: string, revision: number): Promise<RevisionSummary | null> {
      const res = await q.query<RevisionRow>(
        `SELECT namespace, revision, layer, hash, author, message, source, created_at FROM revisions
         WHERE namespace = $1 AND revision = $2`,
        [namespace, revision],
      );
      return res.rows[0] ? toSummary(res.rows[0]) : null;
    },

    /**
     * The config.changed events the outbox still keeps for a revision (published rows are kept
     * 7 days), with the traceparent each was written under. The outbox is small (old rows are
     * deleted), so a scan of its config.changed rows is cheap.
     */
    async eventsOf(
      q: Queryable,
      namespace: string,
      revision: number,
    ): Promise<Array<RevisionEventDto & { traceparent: string | null }>> {
      const res = await q.query<{
        id: string;
        environment: string;
        hash: string;
        trigger: string;
        created_at: Date;
        published_at: Date | null;
        traceparent: string | null;
      }>(
        `SELECT id, payload->'data'->>'environment' AS environment, payload->'data'->>'hash' AS hash,
                payload->'data'->>'trigger' AS trigger, created_at, published_at,
                headers->>'traceparent' AS traceparent
         FROM outbox
         WHERE payload->>'type' = 'nexus.config.changed'
           AND payload->'data'->>'namespace' = $1 AND (payload->'data'->>'revision')::int = $2
         ORDER BY seq`,
        [namespace, revision],
      );
      return res.rows.map((r) => ({
        eventId: r.id,
        environment: r.environment,
        hash: r.hash,
        trigger: r.trigger,
        writtenAt: r.created_at.toISOString(),
        publishedAt: r.published_at?.toISOString() ?? null,
        traceparent: r.traceparent,
      }));
    },
  };
}
export type RevisionStore = ReturnType<typeof createRevisionStore>;
