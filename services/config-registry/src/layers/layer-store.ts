import type { Queryable } from "@nexus/kit";
import type { LayerHead } from "./layer-types.js";

interface LayerRow {
  namespace: string;
  layer: string;
  revision: number;
  content: Record<string, unknown>;
  hash: string;
  updated_at: Date;
}

const toHead = (r: LayerRow): LayerHead => ({
  namespace: r.namespace,
  layer: r.layer,
  revision: r.revision,
  content: r.content,
  hash: r.hash,
  updatedAt: r.updated_at.toISOString(),
});

export function createLayerStore() {
  return {
    async find(q: Queryable, namespace: string, layer: string): Promise<LayerHead | null> {
      const res = await q.query<LayerRow>("SELECT * FROM layers WHERE namespace = $1 AND layer = $2", [
        namespace,
        layer,
      ]);
      return res.rows[0] ? toHead(res.rows[0]) : null;
    },

    /** Every layer head of the given namespaces, for resolution. */
    async findAllOf(q: Queryable, namespaces: string[]): Promise<LayerHead[]> {
      const res = await q.query<LayerRow>("SELECT * FROM layers WHERE namespace = ANY($1)", [namespaces]);
      return res.rows.map(toHead);
    },

    async upsert(q: Queryable, head: Omit<LayerHead, "updatedAt">): Promise<void> {
      await q.query(
        `INSERT INTO layers (namespace, layer, revision, content, hash) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (namespace, layer) DO UPDATE
           SET revision = EXCLUDED.revision, content = EXCLUDED.content, hash = EXCLUDED.hash, updated_at = now()`,
        [head.namespace, head.layer, head.revision, JSON.stringify(head.content), head.hash],
      );
    },
  };
}
export type LayerStore = ReturnType<typeof createLayerStore>;
