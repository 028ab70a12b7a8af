import { type DependencyMap, dependencyRows } from "./dependency-fns.js";

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
