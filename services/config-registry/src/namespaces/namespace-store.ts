import type { Queryable } from "@nexus/kit";
import type { Namespace } from "./namespace-types.js";

export interface NamespaceRow {
  name: string;
  description: string;
  owners: string[];
  environments: string[];
  variables: Record<string, string>;
  head_revision: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "name, description, owners, environments, variables, head_revision, created_at, updated_at";

export const toNamespace = (r: NamespaceRow): Namespace => ({
  name: r.name,
  description: r.description,
  owners: r.owners,
  environments: r.environments,
  variables: r.variables,
  headRevision: r.head_revision,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export function createNamespaceStore() {
  return {
    /** Returns null when the name is taken. */
    async insert(
      q: Queryable,
      ns: Pick<Namespace, "name" | "description" | "owners" | "environments" | "variables">,
    ): Promise<Namespace | null> {
      const res = await q.query<NamespaceRow>(
        `INSERT INTO namespaces (name, description, owners, environments, variables)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
        [ns.name, ns.description, ns.owners, ns.environments, ns.variables],
      );
      return res.rows[0] ? toNamespace(res.rows[0]) : null;
    },

    async findByName(q: Queryable, name: string): Promise<Namespace | null> {
      const res = await q.query<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE name = $1`, [name]);
      return res.rows[0] ? toNamespace(res.rows[0]) : null;
    },

    /** Row lock: every write to a namespace is serialised here, which keeps revisions gapless. */
    async lockByName(q: Queryable, name: string): Promise<Namespace | null> {
      const res = await q.query<NamespaceRow>(
        `SELECT ${COLUMNS} FROM namespaces WHERE name = $1 FOR UPDATE`,
        [name],
      );
      return res.rows[0] ? toNamespace(res.rows[0]) : null;
    },

    async list(q: Queryable, options: { limit: number; after?: string | undefined }): Promise<Namespace[]> {
      const res = await q.query<NamespaceRow>(
        `SELECT ${COLUMNS} FROM namespaces WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2`,
        [options.after ?? null, options.limit],
      );
      return res.rows.map(toNamespace);
    },

    async update(
      q: Queryable,
      name: string,
      patch: Partial<
        Pick<Namespace, "description" | "owners" | "environments" | "variables" | "headRevision">
      >,
    ): Promise<Namespace> {
      const res = await q.query<NamespaceRow>(
        `UPDATE namespaces SET
           description = COALESCE($2, description),
           owners = COALESCE($3, owners),
           environments = COALESCE($4, environments),
           variables = COALESCE($5, variables),
           head_revision = COALESCE($6, head_revision),
           write_version = write_version + 1,
           updated_at = now()
         WHERE name = $1 RETURNING ${COLUMNS}`,
        [
          name,
          patch.description ?? null,
          patch.owners ?? null,
          patch.environments ?? null,
          patch.variables ?? null,
          patch.headRevision ?? null,
        ],
      );
      return toNamespace(res.rows[0]!);
    },

    /** A change stored elsewhere (the schema) alters what the namespace resolves to. */
    async bumpWriteVersion(q: Queryable, name: string): Promise<void> {
      await q.query("UPDATE namespaces SET write_version = write_version + 1 WHERE name = $1", [name]);
    },

    /**
     * Open (or close) run `runId`'s rollout gate on an environment of the namespace, in one
     * statement. A change bumps `write_version`: a write prepared from an older read of the
     * namespace fails its swap and reads the gate. Opening names an environment the namespace
     * has; closing does not (the environment may be gone). Null: no such namespace.
     */
    async setRolloutGate(
      q: Queryable,
      name: string,
      gate: { environment: string; runId: string; open: boolean },
    ): Promise<{ environments: string[]; gates: Record<string, string> } | null> {
      const res = await q.query<{ environments: string[]; gates: Record<string, string> }>(
        `WITH changed AS (
           UPDATE namespaces SET
             rollout_gates = CASE WHEN $4 THEN rollout_gates || jsonb_build_object($3::text, $2::text)
                                  ELSE rollout_gates - $3::text END,
             write_version = write_version + 1
           WHERE name = $1 AND CASE WHEN $4 THEN $2 = ANY(environments) AND rollout_gates->>$3::text IS DISTINCT FROM $2
                                    ELSE rollout_gates ? $3::text END
           RETURNING rollout_gates
         )
         SELECT n.environments, COALESCE((SELECT rollout_gates FROM changed), n.rollout_gates) AS gates
         FROM namespaces n WHERE n.name = $1`,
        [name, gate.environment, gate.runId, gate.open],
      );
      return res.rows[0] ?? null;
    },

    /** Whether a layer of the namespace has ever been written (an environment in use). */
    async hasLayer(q: Queryable, namespace: string, layer: string): Promise<boolean> {
      const res = await q.query("SELECT 1 FROM layers WHERE namespace = $1 AND layer = $2", [
        namespace,
        layer,
      ]);
      return (res.rowCount ?? 0) > 0;
    },

    async delete(q: Queryable, name: string): Promise<void> {
      await q.query("DELETE FROM namespaces WHERE name = $1", [name]);
    },
  };
}
export type NamespaceStore = ReturnType<typeof createNamespaceStore>;
