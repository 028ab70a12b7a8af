import type { Queryable } from "@nexus/kit";
import type { ResolvedHead } from "./resolve-types.js";

/**
 * Upsert of resolved heads passed as one JSON parameter `$first` (see `outboxInsertSql` for why
 * not arrays), usable in a CTE; `onlyIf` names a CTE that must have returned a row for anything
 * to be written.
 */
export const RESOLVED_HEADS_UPSERT_SQL = (first: number, onlyIf?: string) =>
  `INSERT INTO resolved_heads (namespace, environment, revision, hash, body, sealed)
    SELECT r.namespace, r.environment, r.revision, r.hash, r.body, r.sealed
    FROM json_to_recordset($${first}::json)
      AS r(namespace text, environment text, revision int, hash text, body text, sealed text)
    ${onlyIf ? `WHERE EXISTS (SELECT 1 FROM ${onlyIf})` : ""}
    ON CONFLICT (namespace, environment) DO UPDATE
      SET revision = EXCLUDED.revision, hash = EXCLUDED.hash, body = EXCLUDED.body, sealed = EXCLUDED.sealed,
          updated_at = now()`;

/** How many parameters `RESOLVED_HEADS_UPSERT_SQL` takes. */
export const RESOLVED_HEADS_PARAMS = 1;

export const resolvedHeadsParams = (heads: ResolvedHead[]): unknown[] => [
  JSON.stringify(
    heads.map((h) => ({
      namespace: h.namespace,
      environment: h.environment,
      revision: h.revision,
      hash: h.hash,
      body: h.body,
      sealed: h.sealed ?? null,
    })),
  ),
];

export function createResolveStore() {
  return {
    async find(q: Queryable, namespace: string, environment: string): Promise<ResolvedHead | null> {
      const res = await q.query<ResolvedHead>(
        "SELECT namespace, environment, revision, hash, body FROM resolved_heads WHERE namespace = $1 AND environment = $2",
        [namespace, environment],
      );
      return res.rows[0] ?? null;
    },

    /** The head with its sealed (encrypted) form, for a read that may reveal secrets. */
    async findSealed(q: Queryable, namespace: string, environment: string): Promise<ResolvedHead | null> {
      const res = await q.query<ResolvedHead>({
        name: "resolved-head-sealed",
        text: "SELECT namespace, environment, revision, hash, body, sealed FROM resolved_heads WHERE namespace = $1 AND environment = $2",
        values: [namespace, environment],
      });
      return res.rows[0] ?? null;
    },

    async findMany(q: Queryable, namespaces: string[]): Promise<ResolvedHead[]> {
      const res = await q.query<ResolvedHead>(
        "SELECT namespace, environment, revision, hash, body FROM resolved_heads WHERE namespace = ANY($1)",
        [namespaces],
      );
      return res.rows;
    },

    async upsertMany(q: Queryable, heads: ResolvedHead[]): Promise<void> {
      if (heads.length === 0) return;
      await q.query(`${RESOLVED_HEADS_UPSERT_SQL(1)}`, resolvedHeadsParams(heads));
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
