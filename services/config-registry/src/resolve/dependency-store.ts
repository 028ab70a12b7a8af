import type { Queryable } from "@nexus/kit";
import { type DependencyMap, type Dependent, dependencyMapOf, dependencyRows } from "./dependency-fns.js";

/**
 * Two CTEs (`dependencies_removed`, `dependencies_set`) that replace the stored dependencies of
 * the namespaces in the JSON parameter `$param` (`dependenciesParam`; null: none), only when
 * the CTE `onlyIf` returned a row, if named. The delete leaves out the rows the insert writes:
 * one statement must not change a row twice.
 */
export const dependenciesReplaceCtes = (param: number, onlyIf?: string) => {
  const gate = onlyIf ? `AND EXISTS (SELECT 1 FROM ${onlyIf})` : "";
  return `dependencies_removed AS (
  DELETE FROM namespace_dependencies d
  WHERE $${param}::json IS NOT NULL ${gate}
    AND d.namespace IN (SELECT json_array_elements_text($${param}::json->'replace'))
    AND NOT EXISTS (
      SELECT 1 FROM json_to_recordset($${param}::json->'rows') AS r(namespace text, depends_on text)
      WHERE r.namespace = d.namespace AND r.depends_on = d.depends_on)
), dependencies_set AS (
  INSERT INTO namespace_dependencies (namespace, depends_on, pointers)
  SELECT r.namespace, r.depends_on, r.pointers
  FROM json_to_recordset($${param}::json->'rows') AS r(namespace text, depends_on text, pointers text[])
  WHERE $${param}::json IS NOT NULL ${gate}
  ON CONFLICT (namespace, depends_on) DO UPDATE SET pointers = EXCLUDED.pointers
)`;
};

/** `namespace_dependencies` of each namespace named replaced, in one statement. */
export const DEPENDENCIES_REPLACE_SQL = `WITH ${dependenciesReplaceCtes(1)} SELECT 1`;

/** The parameter of `dependenciesReplaceCtes`: null when no namespace's dependencies change. */
export function dependenciesParam(dependencies: ReadonlyMap<string, DependencyMap>): string | null {
  if (dependencies.size === 0) return null;
  return JSON.stringify({
    replace: [...dependencies.keys()],
    rows: [...dependencies].flatMap(([namespace, map]) => dependencyRows(namespace, map)),
  });
}

/**
 * `namespace_dependencies` (who reads whom through `${ref:}`, and where) and the `write_version`
 * swap that a re-resolution of readers commits under: the resolution's own rows, read and written
 * only by `resolve` (and asked by a namespace's deletion whether anyone still reads it).
 */
export function createDependencyStore() {
  return {
    /**
     * Lock these namespaces (in name order, the order every commit locks in) and move their
     * `write_version` on, if each is still at the version given; false, changing nothing, if not.
     */
    async advanceVersions(
      q: Queryable,
      expected: { name: string; writeVersion: string }[],
    ): Promise<boolean> {
      if (expected.length === 0) return true;
      const res = await q.query<{ ok: boolean }>(
        `WITH locked AS (
           SELECT n.name, n.write_version FROM namespaces n WHERE n.name = ANY($1::text[]) ORDER BY n.name FOR UPDATE
         ), ok AS (
           SELECT count(*) = cardinality($1::text[]) AS ok FROM locked l
           JOIN unnest($1::text[], $2::bigint[]) AS e(name, version) ON e.name = l.name AND e.version = l.write_version
         ), advanced AS (
           UPDATE namespaces SET write_version = write_version + 1
           WHERE name = ANY($1::text[]) AND (SELECT ok FROM ok)
         )
         SELECT ok FROM ok`,
        [expected.map((e) => e.name), expected.map((e) => e.writeVersion)],
      );
      return res.rows[0]?.ok === true;
    },

    /** Namespaces that read this one through cross-namespace references. */
    async dependents(q: Queryable, name: string): Promise<string[]> {
      const res = await q.query<{ namespace: string }>(
        "SELECT namespace FROM namespace_dependencies WHERE depends_on = $1 ORDER BY namespace",
        [name],
      );
      return res.rows.map((r) => r.namespace);
    },

    /** Namespaces that read this one, with the pointers of its document each reads. */
    async readers(q: Queryable, name: string): Promise<Dependent[]> {
      const res = await q.query<Dependent>(
        "SELECT namespace AS name, pointers FROM namespace_dependencies WHERE depends_on = $1 AND namespace <> $1 ORDER BY namespace",
        [name],
      );
      return res.rows;
    },

    /** Namespaces this one reads through cross-namespace references, with the pointers it reads. */
    async dependencies(q: Queryable, name: string): Promise<Map<string, readonly string[] | null>> {
      const res = await q.query<{ dependsOn: string; pointers: string[] | null }>(
        'SELECT depends_on AS "dependsOn", pointers FROM namespace_dependencies WHERE namespace = $1',
        [name],
      );
      return dependencyMapOf(res.rows);
    },

    /** Replace the stored dependencies of each namespace named. */
    async setDependencies(q: Queryable, dependencies: ReadonlyMap<string, DependencyMap>): Promise<void> {
      if (dependencies.size === 0) return;
      await q.query(DEPENDENCIES_REPLACE_SQL, [dependenciesParam(dependencies)]);
    },
  };
}
export type DependencyStore = ReturnType<typeof createDependencyStore>;
