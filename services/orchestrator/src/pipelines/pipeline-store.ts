import type { Queryable } from "@nexus/kit";
import { triggeredBy } from "./pipeline-fns.js";
import type { PipelineDefinition, PipelineDto, PipelineVersionDto } from "./pipeline-types.js";

const COLUMNS = `p.name, p.namespace, p.source_env, p.target_env, p.current_version, v.definition,
  p.created_by, p.created_at, p.updated_by, p.updated_at`;
const FROM = "pipelines p JOIN pipeline_versions v ON v.pipeline = p.name AND v.version = p.current_version";

// biome-ignore lint/suspicious/noExplicitAny: a pg row
function toDto(r: Record<string, any>): PipelineDto {
  return {
    name: r.name,
    namespace: r.namespace,
    source: r.source_env,
    target: r.target_env,
    version: r.current_version,
    definition: r.definition,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedBy: r.updated_by,
    updatedAt: r.updated_at.toISOString(),
  };
}

export function createPipelineStore() {
  return {
    async list(db: Queryable): Promise<PipelineDto[]> {
      const res = await db.query(`SELECT ${COLUMNS} FROM ${FROM} ORDER BY p.name`);
      return res.rows.map(toDto);
    },
    async get(db: Queryable, name: string, opts: { forUpdate?: boolean } = {}): Promise<PipelineDto | null> {
      const res = await db.query(
        `SELECT ${COLUMNS} FROM ${FROM} WHERE p.name = $1${opts.forUpdate ? " FOR UPDATE OF p" : ""}`,
        [name],
      );
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    /** Pipelines of a namespace that start from this source environment. */
    async bySource(db: Queryable, namespace: string, source: string): Promise<PipelineDto[]> {
      const res = await db.query(
        `SELECT ${COLUMNS} FROM ${FROM} WHERE p.namespace = $1 AND p.source_env = $2 ORDER BY p.name`,
        [namespace, source],
      );
      return res.rows.map(toDto);
    },
    /**
     * Which of these (namespace, source environment) pairs a pipeline triggered by
     * `config.changed` promotes from, keyed by `sourceKey`: one read for many events.
     */
    async triggeredSources(
      db: Queryable,
      pairs: readonly { namespace: string; environment: string }[],
    ): Promise<Set<string>> {
      const res = await db.query<{ namespace: string; source_env: string; definition: unknown }>(
        `SELECT p.namespace, p.source_env, v.definition FROM ${FROM}
         WHERE (p.namespace, p.source_env) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [pairs.map((x) => x.namespace), pairs.map((x) => x.environment)],
      );
      const found = new Set<string>();
      for (const r of res.rows)
        if (triggeredBy(r.definition as PipelineDefinition, "config.changed"))
          found.add(sourceKey({ namespace: r.namespace, environment: r.source_env }));
      return found;
    },
    /**
     * Every (namespace, source) a pipeline triggered by `config.changed` promotes from, with the
     * `pipeline_index` version they are as of (one statement: one snapshot).
     */
    async triggerIndex(db: Queryable): Promise<{ version: number; sources: Set<string> }> {
      const res = await db.query<{
        version: string;
        namespace: string | null;
        source_env: string | null;
        definition: unknown;
      }>(
        `SELECT i.version, s.namespace, s.source_env, s.definition FROM pipeline_index i
         LEFT JOIN (SELECT p.namespace, p.source_env, v.definition FROM ${FROM}) s ON true`,
      );
      const sources = new Set<string>();
      for (const r of res.rows)
        if (r.namespace !== null && r.source_env !== null)
          if (triggeredBy(r.definition as PipelineDefinition, "config.changed"))
            sources.add(sourceKey({ namespace: r.namespace, environment: r.source_env }));
      return { version: Number(res.rows[0]?.version ?? 0), sources };
    },
    /**
     * Since when some pipeline is triggered by `config.changed` (the earliest such pipeline's last
     * change), or null when none is: the trigger consumer runs only while one is.
     */
    async triggeredSince(db: Queryable): Promise<Date | null> {
      const res = await db.query<{ updated_at: Date; definition: unknown }>(
        `SELECT p.updated_at, v.definition FROM ${FROM}`,
      );
      const times = res.rows
        .filter((r) => triggeredBy(r.definition as PipelineDefinition, "config.changed"))
        .map((r) => r.updated_at.getTime());
      return times.length ? new Date(Math.min(...times)) : null;
    },
    /** The `pipeline_index` version: moves with every change to `pipelines`. */
    async indexVersion(db: Queryable): Promise<number> {
      const res = await db.query<{ version: string }>("SELECT version FROM pipeline_index");
      return Number(res.rows[0]?.version ?? 0);
    },
    /** False when the name is taken. */
    async insert(db: Queryable, def: PipelineDefinition, actor: string): Promise<boolean> {
      const res = await db.query(
        `WITH p AS (
           INSERT INTO pipelines (name, namespace, source_env, target_env, current_version, created_by, updated_by)
           VALUES ($1, $2, $3, $4, 1, $5, $5) ON CONFLICT (name) DO NOTHING RETURNING name)
         INSERT INTO pipeline_versions (pipeline, version, definition, created_by)
         SELECT name, 1, $6, $5 FROM p`,
        [def.name, def.namespace, def.source, def.target, actor, JSON.stringify(def)],
      );
      return (res.rowCount ?? 0) > 0;
    },
    /** A new version; the caller holds the pipeline's row lock. */
    async addVersion(db: Queryable, def: PipelineDefinition, version: number, actor: string): Promise<void> {
      await db.query(
        "INSERT INTO pipeline_versions (pipeline, version, definition, created_by) VALUES ($1, $2, $3, $4)",
        [def.name, version, JSON.stringify(def), actor],
      );
      await db.query(
        `UPDATE pipelines SET namespace = $2, source_env = $3, target_env = $4, current_version = $5,
           updated_by = $6, updated_at = now() WHERE name = $1`,
        [def.name, def.namespace, def.source, def.target, version, actor],
      );
    },
    async versions(db: Queryable, name: string): Promise<PipelineVersionDto[]> {
      const res = await db.query(
        `SELECT version, definition, created_by, created_at FROM pipeline_versions
         WHERE pipeline = $1 ORDER BY version DESC`,
        [name],
      );
      return res.rows.map((r) => ({
        version: r.version,
        definition: r.definition,
        createdBy: r.created_by,
        createdAt: r.created_at.toISOString(),
      }));
    },
    async delete(db: Queryable, name: string): Promise<boolean> {
      const res = await db.query("DELETE FROM pipelines WHERE name = $1", [name]);
      return (res.rowCount ?? 0) > 0;
    },
  };
}
export type PipelineStore = ReturnType<typeof createPipelineStore>;

/** A pipeline source as `triggeredSources` keys it. */
export const sourceKey = (s: { namespace: string; environment: string }) =>
  `${s.namespace}\u0000${s.environment}`;
