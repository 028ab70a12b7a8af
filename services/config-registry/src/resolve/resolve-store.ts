import type { Queryable } from "@nexus/kit";
import type { ResolvedHead, StoredHead } from "./resolve-types.js";

const headsUpsertFrom = (source: string, onlyIf: string | undefined) =>
  `INSERT INTO resolved_heads (namespace, environment, revision, hash, body, sealed)
    SELECT r.namespace, r.environment, r.revision, r.hash, r.body, r.sealed
    FROM ${source}
    ${onlyIf ? `WHERE EXISTS (SELECT 1 FROM ${onlyIf})` : ""}
    ON CONFLICT (namespace, environment) DO UPDATE
      SET revision = EXCLUDED.revision, hash = EXCLUDED.hash, body = EXCLUDED.body, sealed = EXCLUDED.sealed,
          updated_at = now(), version = nextval('resolved_heads_version')
    RETURNING namespace, environment, version`;

/**
 * Upsert of resolved heads passed as one JSON parameter `$first` (see `outboxInsertSql` for why
 * not arrays), usable in a CTE; `onlyIf` names a CTE that must have returned a row for anything
 * to be written.
 */
export const RESOLVED_HEADS_UPSERT_SQL = (first: number, onlyIf?: string) =>
  headsUpsertFrom(
    `json_to_recordset($${first}::json)
      AS r(namespace text, environment text, revision int, hash text, body text, sealed text)`,
    onlyIf,
  );

/** Parameters per head of `resolvedHeadsValuesUpsertSql`. */
export const RESOLVED_HEAD_VALUE_PARAMS = 6;

/**
 * The same upsert for `count` heads given as plain parameters from `$first` on
 * (`resolvedHeadValueParams`), for the few heads of a plain write: Postgres takes each body as
 * it is, where out of the JSON form it un-escapes it character by character first.
 */
export const resolvedHeadsValuesUpsertSql = (first: number, count: number, onlyIf?: string) => {
  const rows = Array.from({ length: count }, (_, i) => {
    const p = first + i * RESOLVED_HEAD_VALUE_PARAMS;
    return `($${p}::text, $${p + 1}::text, $${p + 2}::int, $${p + 3}::text, $${p + 4}::text, $${p + 5}::text)`;
  });
  return headsUpsertFrom(
    `(VALUES ${rows.join(", ")}) AS r(namespace, environment, revision, hash, body, sealed)`,
    onlyIf,
  );
};

export const resolvedHeadValueParams = (heads: readonly ResolvedHead[]): unknown[] =>
  heads.flatMap((h) => [h.namespace, h.environment, h.revision, h.hash, h.body, h.sealed ?? null]);

/** Heads as committed: each with the version its upsert returned (`RESOLVED_HEADS_UPSERT_SQL`). */
export function withVersions(
  heads: readonly ResolvedHead[],
  versions: readonly { namespace: string; environment: string; version: string | number }[],
): ResolvedHead[] {
  const byKey = new Map(versions.map((v) => [`${v.namespace}\u0000${v.environment}`, Number(v.version)]));
  return heads.map((h) => {
    const version = byKey.get(`${h.namespace}\u0000${h.environment}`);
    return version === undefined ? h : { ...h, version };
  });
}

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

/** A namespace that reads the one being written, as `findReaders` returns it. */
export interface ReaderRow {
  name: string;
  environments: string[];
  variables: Record<string, string>;
  writeVersion: string;
  rolloutGates: Record<string, string>;
  /** `content` null where the caller named the layer as known. */
  layers: { layer: string; revision: number; hash: string; content: Record<string, unknown> | null }[];
  schema: Record<string, unknown> | null;
  /** `body` null where the caller named the head as known. */
  resolved: { environment: string; revision: number; hash: string; body: string | null }[];
  /** What the reader reads, as stored: it is re-resolved, so its pointers may change. */
  dependencies: { dependsOn: string; pointers: string[] | null }[];
}

/**
 * Everything a write re-resolving its readers needs of them, in one statement whatever their
 * number: namespace, layers, schema, resolved heads and dependencies. `$1` is JSON, one entry per reader with
 * the documents the caller holds of it (`<layer or environment>:<hash>`): those are not sent.
 * The keys go per reader, not in one list: a list of all would be compared against every row
 * (`= ANY` of a parameter is a linear scan), readers × readers.
 */
const READERS_SQL = `
SELECT n.name, n.environments, n.variables, n.write_version AS "writeVersion",
  n.rollout_gates AS "rolloutGates",
  (SELECT COALESCE(json_agg(json_build_object('layer', l.layer, 'revision', l.revision, 'hash', l.hash,
            'content', CASE WHEN l.layer || ':' || l.hash = ANY(k.layers) THEN NULL ELSE l.content END)), '[]'::json)
     FROM layers l WHERE l.namespace = n.name) AS layers,
  (SELECT s.schema FROM schemas s WHERE s.namespace = n.name) AS schema,
  (SELECT COALESCE(json_agg(json_build_object('environment', h.environment, 'revision', h.revision, 'hash', h.hash,
            'body', CASE WHEN h.environment || ':' || h.hash = ANY(k.heads) THEN NULL ELSE h.body END)), '[]'::json)
     FROM resolved_heads h WHERE h.namespace = n.name) AS resolved,
  (SELECT COALESCE(json_agg(json_build_object('dependsOn', d.depends_on, 'pointers', d.pointers)), '[]'::json)
     FROM namespace_dependencies d WHERE d.namespace = n.name) AS dependencies
FROM json_to_recordset($1::json) AS k(name text, layers text[], heads text[])
JOIN namespaces n ON n.name = k.name`;

/** A reader to load, with the keys (`knownKey`) of the layers and heads the caller holds of it. */
export interface ReaderRequest {
  name: string;
  layers: string[];
  heads: string[];
}

// `version` as float8: a JavaScript number (exact below 2^53), where pg returns a bigint as a string.
export function createResolveStore() {
  return {
    async find(q: Queryable, namespace: string, environment: string): Promise<ResolvedHead | null> {
      const res = await q.query<ResolvedHead>(
        "SELECT namespace, environment, revision, version::float8 AS version, hash, body FROM resolved_heads WHERE namespace = $1 AND environment = $2",
        [namespace, environment],
      );
      return res.rows[0] ?? null;
    },

    /** The head with its sealed (encrypted) form, for a read that may reveal secrets. */
    async findSealed(q: Queryable, namespace: string, environment: string): Promise<ResolvedHead | null> {
      const res = await q.query<ResolvedHead>({
        name: "resolved-head-sealed",
        text: "SELECT namespace, environment, revision, version::float8 AS version, hash, body, sealed FROM resolved_heads WHERE namespace = $1 AND environment = $2",
        values: [namespace, environment],
      });
      return res.rows[0] ?? null;
    },

    async findMany(q: Queryable, namespaces: string[]): Promise<ResolvedHead[]> {
      const res = await q.query<ResolvedHead>(
        "SELECT namespace, environment, revision, version::float8 AS version, hash, body FROM resolved_heads WHERE namespace = ANY($1)",
        [namespaces],
      );
      return res.rows;
    },

    /**
     * The heads of these namespaces for a write to compare against; the body is null where the
     * caller named the head as known (`<namespace>:<environment>:<hash>`), so it is not sent.
     */
    async findManyLeavingOut(q: Queryable, namespaces: string[], known: string[]): Promise<StoredHead[]> {
      const res = await q.query<StoredHead>({
        name: "resolved-heads-for-write",
        text: `SELECT namespace, environment, revision, hash,
                 CASE WHEN namespace || ':' || environment || ':' || hash = ANY($2::text[]) THEN NULL ELSE body END AS body
               FROM resolved_heads WHERE namespace = ANY($1)`,
        values: [namespaces, known],
      });
      return res.rows;
    },

    async findReaders(q: Queryable, readers: ReaderRequest[]): Promise<ReaderRow[]> {
      const res = await q.query<ReaderRow>({
        name: "resolve-readers",
        text: READERS_SQL,
        values: [JSON.stringify(readers)],
      });
      return res.rows;
    },

    /** The heads as stored, with their versions. */
    async upsertMany(q: Queryable, heads: ResolvedHead[]): Promise<ResolvedHead[]> {
      if (heads.length === 0) return heads;
      const res = await q.query<{ namespace: string; environment: string; version: string }>(
        RESOLVED_HEADS_UPSERT_SQL(1),
        resolvedHeadsParams(heads),
      );
      return withVersions(heads, res.rows);
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
