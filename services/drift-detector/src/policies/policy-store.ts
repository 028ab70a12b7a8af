import type { Queryable } from "@nexus/kit";
import type { PolicyDto, PolicyInput } from "./policy-types.js";

const COLUMNS = `id, name, description, environment, namespace_pattern, severity, rules, enabled,
  created_by, created_at, updated_by, updated_at`;

// biome-ignore lint/suspicious/noExplicitAny: a pg row
function toDto(r: Record<string, any>): PolicyDto {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    environment: r.environment,
    namespacePattern: r.namespace_pattern,
    severity: r.severity,
    rules: r.rules,
    enabled: r.enabled,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedBy: r.updated_by,
    updatedAt: r.updated_at.toISOString(),
  };
}

export function createPolicyStore() {
  return {
    async list(db: Queryable, environment?: string): Promise<PolicyDto[]> {
      const res = await db.query(
        `SELECT ${COLUMNS} FROM policies WHERE ($1::text IS NULL OR environment = $1) ORDER BY environment, name`,
        [environment ?? null],
      );
      return res.rows.map(toDto);
    },
    /**
     * Every enabled policy and the policies' version they are (one statement, so one snapshot):
     * what policy-cache keeps in memory.
     */
    async enabledWithVersion(db: Queryable): Promise<{ version: number; enabled: PolicyDto[] }> {
      const res = await db.query(
        `SELECT v.version AS policies_version, p.* FROM policies_version v
         LEFT JOIN (SELECT ${COLUMNS} FROM policies WHERE enabled) p ON true
         ORDER BY p.environment, p.name`,
      );
      return {
        version: Number(res.rows[0]?.policies_version ?? 0),
        enabled: res.rows.filter((r) => r.id !== null).map(toDto),
      };
    },
    async get(db: Queryable, id: string): Promise<PolicyDto | null> {
      const res = await db.query(`SELECT ${COLUMNS} FROM policies WHERE id = $1`, [id]);
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    /** Null when a policy of that name exists in the environment. */
    async insert(db: Queryable, id: string, input: PolicyInput, actor: string): Promise<PolicyDto | null> {
      const res = await db.query(
        `INSERT INTO policies (id, name, description, environment, namespace_pattern, severity, rules,
           enabled, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (environment, name) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          id,
          input.name,
          input.description,
          input.environment,
          input.namespacePattern,
          input.severity,
          JSON.stringify(input.rules),
          input.enabled,
          actor,
        ],
      );
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    async update(db: Queryable, id: string, input: PolicyInput, actor: string): Promise<PolicyDto | null> {
      const res = await db.query(
        `UPDATE policies SET name = $2, description = $3, environment = $4, namespace_pattern = $5,
           severity = $6, rules = $7, enabled = $8, updated_by = $9, updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          input.name,
          input.description,
          input.environment,
          input.namespacePattern,
          input.severity,
          JSON.stringify(input.rules),
          input.enabled,
          actor,
        ],
      );
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    async delete(db: Queryable, id: string): Promise<boolean> {
      const res = await db.query("DELETE FROM policies WHERE id = $1", [id]);
      return (res.rowCount ?? 0) > 0;
    },
  };
}
export type PolicyStore = ReturnType<typeof createPolicyStore>;
