import type { Queryable } from "@nexus/kit";
import type { ResolvedHead } from "./resolve-types.js";

export function createResolveStore() {
  return {
    async find(q: Queryable, namespace: string, environment: string): Promise<ResolvedHead | null> {
      const res = await q.query<ResolvedHead>(
        "SELECT namespace, environment, revision, hash, body FROM resolved_heads WHERE namespace = $1 AND environment = $2",
        [namespace, environment],
      );
      return res.rows[0] ?? null;
    },

    async findMany(q: Queryable, namespaces: string[]): Promise<ResolvedHead[]> {
      const res = await q.query<ResolvedHead>(
        "SELECT namespace, environment, revision, hash, body FROM resolved_heads WHERE namespace = ANY($1)",
        [namespaces],
      );
      return res.rows;
    },

    async upsert(q: Queryable, head: ResolvedHead): Promise<void> {
      await q.query(
        `INSERT INTO resolved_heads (namespace, environment, revision, hash, body) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (namespace, environment) DO UPDATE
           SET revision = EXCLUDED.revision, hash = EXCLUDED.hash, body = EXCLUDED.body, updated_at = now()`,
        [head.namespace, head.environment, head.revision, head.hash, head.body],
      );
    },

    async deleteEnvironment(q: Queryable, namespace: string, environment: string): Promise<void> {
      await q.query("DELETE FROM resolved_heads WHERE namespace = $1 AND environment = $2", [
        namespace,
        environment,
      ]);
    },
  };
}
export type ResolveStore = ReturnType<typeof createResolveStore>;
