import type { Queryable } from "@nexus/kit";

export interface StoredSchema {
  namespace: string;
  schema: Record<string, unknown>;
  hash: string;
  updatedBy: string;
  updatedAt: string;
}

interface SchemaRow {
  namespace: string;
  schema: Record<string, unknown>;
  hash: string;
  updated_by: string;
  updated_at: Date;
}

export function createSchemaStore() {
  return {
    async find(q: Queryable, namespace: string): Promise<StoredSchema | null> {
      const res = await q.query<SchemaRow>("SELECT * FROM schemas WHERE namespace = $1", [namespace]);
      const r = res.rows[0];
      return r
        ? {
            namespace: r.namespace,
            schema: r.schema,
            hash: r.hash,
            updatedBy: r.updated_by,
            updatedAt: r.updated_at.toISOString(),
          }
        : null;
    },

    async findMany(q: Queryable, namespaces: string[]): Promise<Map<string, Record<string, unknown>>> {
      const res = await q.query<SchemaRow>(
        "SELECT namespace, schema FROM schemas WHERE namespace = ANY($1)",
        [namespaces],
      );
      return new Map(res.rows.map((r) => [r.namespace, r.schema]));
    },

    async upsert(q: Queryable, s: Omit<StoredSchema, "updatedAt">): Promise<void> {
      await q.query(
        `INSERT INTO schemas (namespace, schema, hash, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace) DO UPDATE SET schema = EXCLUDED.schema, hash = EXCLUDED.hash,
           updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [s.namespace, JSON.stringify(s.schema), s.hash, s.updatedBy],
      );
    },

    async delete(q: Queryable, namespace: string): Promise<boolean> {
      const res = await q.query("DELETE FROM schemas WHERE namespace = $1", [namespace]);
      return (res.rowCount ?? 0) > 0;
    },
  };
}
export type SchemaStore = ReturnType<typeof createSchemaStore>;
