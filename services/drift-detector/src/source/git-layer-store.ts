import type { Queryable } from "@nexus/kit";
import type { GitLayer } from "./source-types.js";

// biome-ignore lint/suspicious/noExplicitAny: a pg row
const toLayer = (r: Record<string, any>): GitLayer => ({
  namespace: r.namespace,
  layer: r.layer,
  sourceId: r.source_id,
  source: r.source,
  branch: r.branch,
  commit: r.commit_sha,
  revision: r.revision,
});

export function createGitLayerStore() {
  return {
    /** Remember what an import wrote; an older revision never replaces a newer one. */
    async record(db: Queryable, layers: readonly GitLayer[], at: Date): Promise<void> {
      if (layers.length === 0) return;
      await db.query(
        `INSERT INTO git_layers (namespace, layer, source_id, source, branch, commit_sha, revision, imported_at)
         SELECT namespace, layer, source_id, source, branch, commit_sha, revision, $2
         FROM jsonb_to_recordset($1::jsonb) AS r(namespace text, layer text, source_id uuid, source text,
           branch text, commit_sha text, revision integer)
         ON CONFLICT (namespace, layer) DO UPDATE SET source_id = EXCLUDED.source_id, source = EXCLUDED.source,
           branch = EXCLUDED.branch, commit_sha = EXCLUDED.commit_sha, revision = EXCLUDED.revision,
           imported_at = EXCLUDED.imported_at
         WHERE git_layers.revision <= EXCLUDED.revision`,
        [
          JSON.stringify(
            layers.map((l) => ({
              namespace: l.namespace,
              layer: l.layer,
              source_id: l.sourceId,
              source: l.source,
              branch: l.branch,
              commit_sha: l.commit,
              revision: l.revision,
            })),
          ),
          at,
        ],
      );
    },
    async find(db: Queryable, namespace: string, layer: string): Promise<GitLayer | null> {
      const res = await db.query("SELECT * FROM git_layers WHERE namespace = $1 AND layer = $2", [
        namespace,
        layer,
      ]);
      return res.rows[0] ? toLayer(res.rows[0]) : null;
    },
    async ofSource(db: Queryable, sourceId: string): Promise<GitLayer[]> {
      const res = await db.query("SELECT * FROM git_layers WHERE source_id = $1 ORDER BY namespace, layer", [
        sourceId,
      ]);
      return res.rows.map(toLayer);
    },
  };
}
export type GitLayerStore = ReturnType<typeof createGitLayerStore>;
