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
