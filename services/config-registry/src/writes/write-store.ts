import {
  type AuditEntry,
  auditInsertParams,
  auditInsertSql,
  OUTBOX_INSERT_PARAMS,
  OUTBOX_VALUE_PARAMS,
  type OutboxPlace,
  type OutboxRows,
  outboxInsertParams,
  outboxInsertSql,
  outboxPlacesSql,
  outboxValueParams,
  outboxValuesInsertSql,
  type Queryable,
} from "@nexus/kit";
import type { LayerHead } from "../layers/layer-types.js";
import { type NamespaceRow, toNamespace } from "../namespaces/namespace-store.js";
import type { Namespace } from "../namespaces/namespace-types.js";
import { type DependencyMap, type Dependent, dependencyMapOf } from "../resolve/dependency-fns.js";
import { dependenciesParam, dependenciesReplaceCtes } from "../resolve/dependency-store.js";
import { type KnownDocuments, knownKey } from "../resolve/known-documents.js";
import {
  RESOLVED_HEAD_VALUE_PARAMS,
  RESOLVED_HEADS_PARAMS,
  RESOLVED_HEADS_UPSERT_SQL,
  resolvedHeadsParams,
  resolvedHeadsValuesUpsertSql,
  resolvedHeadValueParams,
  withVersions,
} from "../resolve/resolve-store.js";
import type { ResolvedHead, StoredHead } from "../resolve/resolve-types.js";
import { revisionInsertParams } from "../revisions/revision-store.js";
import type { Revision } from "../revisions/revision-types.js";

/**
 * The two statements of a layer write. Each round trip to Postgres costs more than the work of
 * the write itself, so one statement reads everything resolution needs, and one stores everything
 * the write produced and commits (no BEGIN, no COMMIT, no lock held while resolving): it applies
 * only if the namespace's `write_version` is still the one read, otherwise the caller starts over.
 * Both are named, so each connection plans them once.
 */

export interface WriteContextRow {
  namespace: Namespace;
  /** Compare-and-swap token for `commitWrite`. */
  writeVersion: string;
  /**
   * `created_at` as Postgres writes it, swapped against with `writeVersion`: a namespace deleted
   * and created again starts at version 0 again, and a held state of the old one must not apply.
   */
  incarnation: string;
  layers: LayerHead[];
  /** Namespaces that read this one (without itself), with the pointers of it each reads. */
  dependents: Dependent[];
  /** Namespaces this one reads, as stored, with the pointers of each it reads. */
  dependencies: DependencyMap;
  schema: Record<string, unknown> | null;
  /** The resolved heads the write can change: all for `base`, the environment's for an overlay. */
  resolved: StoredHead[];
  /** Layers of this namespace that follow a Git source (API writes to them are refused). */
  gitBound: GitBoundLayer[];
  /** Open wave-rollout gates, run id → environment (`namespaces.rollout_gates`). */
  rolloutGates: Record<string, string>;
}

export interface GitBoundLayer {
  layer: string;
  path: string;
  branch: string;
  source: string;
  url: string;
}

interface ReadRow extends NamespaceRow {
  write_version: string;
  incarnation: string;
  layers: {
    layer: string;
    revision: number;
    /** Null when the caller already holds this (layer, hash). */
    content: Record<string, unknown> | null;
    hash: string;
    updated_at: string;
  }[];
  dependents: Dependent[];
  dependencies: { dependsOn: string; pointers: string[] | null }[];
  schema: Record<string, unknown> | null;
  /** `body` null when the caller already holds this (environment, hash). */
  resolved: { environment: string; revision: number; hash: string; body: string | null }[];
  git_bound: GitBoundLayer[];
  rollout_gates: Record<string, string>;
}

const READ_SQL = `
SELECT n.name, n.description, n.owners, n.environments, n.variables, n.head_revision, n.write_version,
  n.rollout_gates, n.created_at, n.created_at::text AS incarnation, n.updated_at,
  (SELECT COALESCE(json_agg(json_build_object('layer', l.layer, 'revision', l.revision,
            'content', CASE WHEN l.layer || ':' || l.hash = ANY($3::text[]) THEN NULL ELSE l.content END,
            'hash', l.hash, 'updated_at', l.updated_at)), '[]'::json)
     FROM layers l WHERE l.namespace = n.name) AS layers,
  (SELECT COALESCE(json_agg(json_build_object('name', d.namespace, 'pointers', d.pointers) ORDER BY d.namespace), '[]'::json)
     FROM namespace_dependencies d WHERE d.depends_on = n.name AND d.namespace <> n.name) AS dependents,
  (SELECT COALESCE(json_agg(json_build_object('dependsOn', d.depends_on, 'pointers', d.pointers)), '[]'::json)
     FROM namespace_dependencies d WHERE d.namespace = n.name) AS dependencies,
  (SELECT s.schema FROM schemas s WHERE s.namespace = n.name) AS schema,
  (SELECT COALESCE(json_agg(json_build_object('environment', h.environment, 'revision', h.revision,
            'hash', h.hash,
            'body', CASE WHEN h.environment || ':' || h.hash = ANY($4::text[]) THEN NULL ELSE h.body END)), '[]'::json)
     FROM resolved_heads h WHERE h.namespace = n.name AND ($2::text = 'base' OR h.environment = $2)) AS resolved,
  (SELECT COALESCE(json_agg(json_build_object('layer', g.layer, 'path', g.path, 'branch', g.branch,
                                              'source', s.name, 'url', s.url)), '[]'::json)
     FROM git_bound_layers g JOIN git_sources s ON s.id = g.source_id WHERE g.namespace = n.name) AS git_bound
FROM namespaces n WHERE n.name = $1`;

// Every other part reads from `claimed`, so when the swap fails the statement changes nothing.
// A write to a namespace that others read re-resolves them: it also checks and moves on their
// versions ($14, as read in $15), so that a concurrent write to one of them, resolved from what
// it read before, fails its swap and starts over instead of storing a document built from old
// content. Then `locked` first takes the row locks of the namespace and those others in name
// order, the order every such commit takes them in (no deadlock between commits), waiting for a
// concurrent commit on any of them and then seeing its result. Without others, nothing changes.
const OTHERS = 12 + RESOLVED_HEADS_PARAMS + OUTBOX_INSERT_PARAMS;
/**
 * The swap's update of the namespace row; each statement adds the condition that makes it a swap.
 * The parts below take a write's parameters from after `$base` (0, or a group's i-th write's).
 */
const claim = (base = 0) =>
  `UPDATE namespaces SET head_revision = $${base + 2}, write_version = write_version + 1, updated_at = now()`;
/** The revision (its first nine parameters) and the layer's new head, once `claimed` returned its row. */
function revisionAndLayer(base = 0, suffix = ""): string {
  const $ = (n: number) => `$${base + n}`;
  return `revision${suffix} AS (
  INSERT INTO revisions (namespace, revision, layer, content, hash, diff, author, message, source)
  SELECT ${[1, 2, 3, 4, 5, 6, 7, 8, 9].map($).join(", ")} FROM claimed${suffix}
), layer${suffix} AS (
  INSERT INTO layers (namespace, layer, revision, content, hash)
  SELECT ${$(1)}, ${$(3)}, ${$(2)}, ${$(4)}, ${$(5)} FROM claimed${suffix}
  ON CONFLICT (namespace, layer) DO UPDATE
    SET revision = EXCLUDED.revision, content = EXCLUDED.content, hash = EXCLUDED.hash, updated_at = now()
)`;
}
/** What a commit answers: whether it applied, the heads' versions, the events' places. */
const commitResult = (suffix = "") => `(SELECT count(*)::int FROM claimed${suffix}) AS applied${suffix},
  (SELECT COALESCE(json_agg(json_build_object('namespace', h.namespace, 'environment', h.environment,
                                              'version', h.version)), '[]'::json) FROM heads${suffix} h) AS versions${suffix},
  ${outboxPlacesSql(`events${suffix}`)} AS places${suffix}`;
const COMMIT_SQL = `
WITH locked AS (
  SELECT n.name, n.write_version FROM namespaces n
  WHERE cardinality($${OTHERS}::text[]) > 0 AND (n.name = $1 OR n.name = ANY($${OTHERS}::text[]))
  ORDER BY n.name FOR UPDATE
), others_unchanged AS (
  SELECT count(*) = cardinality($${OTHERS}::text[]) AS ok
  FROM locked l
  JOIN unnest($${OTHERS}::text[], $${OTHERS + 1}::bigint[]) AS e(name, version)
    ON e.name = l.name AND e.version = l.write_version
), claimed AS (
  ${claim()}
  WHERE name = $1 AND write_version = $10 AND created_at = $${OTHERS + 2}::timestamptz
    AND (SELECT ok FROM others_unchanged)
  RETURNING name
), others AS (
  UPDATE namespaces SET write_version = write_version + 1
  WHERE name = ANY($${OTHERS}::text[]) AND EXISTS (SELECT 1 FROM claimed)
), ${revisionAndLayer()}, ${dependenciesReplaceCtes(11, "claimed")}, heads AS (
  ${RESOLVED_HEADS_UPSERT_SQL(12, "claimed")}
), events AS (
  ${outboxInsertSql(12 + RESOLVED_HEADS_PARAMS, "claimed")}
), audit AS (
  ${auditInsertSql(OTHERS + 3, "claimed")}
)
SELECT ${commitResult()}`;

/**
 * A plain write (no other namespace re-resolved, no dependency changed, at most this many heads
 * and events) commits with `plainCommitSql` instead: COMMIT_SQL's parts for readers and
 * dependencies do nothing then, yet Postgres set up their plan nodes on every execution, and it
 * un-escaped each head's body and each event out of their JSON parameters before parsing them:
 * together a quarter to a third of the Postgres CPU of such a write (test/bench/README.md (z)).
 */
const PLAIN_ROWS_MAX = 4;

/**
 * COMMIT_SQL for a plain write with `heads` heads and `events` events as plain parameters: the
 * swap on the namespace alone (what COMMIT_SQL's checks of others reduce to with none), then the
 * same inserts.
 */
function plainCommitSql(heads: number, events: number): string {
  const key = `${heads}-${events}`;
  let text = plainCommitTexts.get(key);
  if (text === undefined) {
    text = buildPlainCommitSql(heads, events);
    plainCommitTexts.set(key, text);
  }
  return text;
}
const plainCommitTexts = new Map<string, string>();

function buildPlainCommitSql(heads: number, events: number): string {
  return `WITH ${plainWriteCtes(0, heads, events, "")}
SELECT ${commitResult()}`;
}

/** Parameters of one plain write: revision, version, incarnation, audit, then heads and events. */
const plainParamCount = (heads: number, events: number) =>
  12 + heads * RESOLVED_HEAD_VALUE_PARAMS + events * OUTBOX_VALUE_PARAMS;

/** A plain write's parts, its parameters after `$base`, its CTEs named with `suffix`. */
function plainWriteCtes(base: number, heads: number, events: number, suffix: string, onlyIf = ""): string {
  const headsFrom = base + 13;
  const eventsFrom = headsFrom + heads * RESOLVED_HEAD_VALUE_PARAMS;
  const claimed = `claimed${suffix}`;
  return `${claimed} AS (
  ${claim(base)}
  WHERE name = $${base + 1} AND write_version = $${base + 10} AND created_at = $${base + 11}::timestamptz${onlyIf}
  RETURNING name
), ${revisionAndLayer(base, suffix)}, heads${suffix} AS (
  ${heads > 0 ? resolvedHeadsValuesUpsertSql(headsFrom, heads, claimed) : "SELECT NULL::text AS namespace, NULL::text AS environment, NULL::bigint AS version WHERE false"}
), events${suffix} AS (
  ${events > 0 ? outboxValuesInsertSql(eventsFrom, events, claimed) : "SELECT NULL::uuid AS id, NULL::bigint AS seq, NULL::text AS subject WHERE false"}
), audit${suffix} AS (
  ${auditInsertSql(base + 12, claimed)}
)`;
}

const plainParams = (write: CommittedWrite): unknown[] => [
  ...revisionInsertParams(write.revision),
  write.expectedWriteVersion,
  write.incarnation,
  ...auditInsertParams(write.audit),
  ...resolvedHeadValueParams(write.heads),
  ...outboxValueParams(write.outbox),
];

/**
 * `n` plain writes of one shape in one statement (`commitGroup`): `locked` takes their namespaces'
 * row locks in name order (the last parameter names them) before any swap, then each write's
 * parts as alone, suffixed `_i`; one row answers for all.
 */
function groupCommitSql(heads: number, events: number, n: number): string {
  const key = `${heads}-${events}x${n}`;
  let text = groupCommitTexts.get(key);
  if (text === undefined) {
    text = buildGroupCommitSql(heads, events, n);
    groupCommitTexts.set(key, text);
  }
  return text;
}
const groupCommitTexts = new Map<string, string>();

function buildGroupCommitSql(heads: number, events: number, n: number): string {
  const each = plainParamCount(heads, events);
  const names = n * each + 1;
  const writes = Array.from({ length: n }, (_, i) =>
    plainWriteCtes(i * each, heads, events, `_${i}`, " AND name IN (SELECT name FROM locked)"),
  );
  return `WITH locked AS (
  SELECT name FROM namespaces WHERE name = ANY($${names}::text[]) ORDER BY name FOR UPDATE
), ${writes.join(", ")}
SELECT ${Array.from({ length: n }, (_, i) => commitResult(`_${i}`)).join(",\n  ")}`;
}

/** What a commit statement answers for one write. */
interface CommitRow {
  applied: number;
  versions: { namespace: string; environment: string; version: number }[];
  places: OutboxPlace[];
}

/** A write that applied: its heads as stored (with their versions) and its events' places. */
export interface CommitResult {
  heads: ResolvedHead[];
  places: OutboxPlace[];
}

const committed = (write: CommittedWrite, row: CommitRow | undefined): CommitResult | null =>
  row?.applied === 1 ? { heads: withVersions(write.heads, row.versions), places: row.places } : null;

const isPlain = (write: CommittedWrite) =>
  write.others.length === 0 &&
  write.dependencies.size === 0 &&
  write.heads.length <= PLAIN_ROWS_MAX &&
  write.outbox.ids.length <= PLAIN_ROWS_MAX;

export interface CommittedWrite {
  revision: Omit<Revision, "createdAt">;
  /** `writeVersion` and `incarnation` from `readForWrite` (or a held state). */
  expectedWriteVersion: string;
  incarnation: string;
  /**
   * New cross-namespace dependencies of the target and of readers it re-resolved (their pointers
   * into it may change with it); namespaces not named keep theirs. Those readers are in `others`.
   */
  dependencies: ReadonlyMap<string, DependencyMap>;
  heads: ResolvedHead[];
  outbox: OutboxRows;
  /** Other namespaces whose heads are in `heads`, with the versions they were read at. */
  others: { name: string; writeVersion: string }[];
  /** The request's audit line, committed with the write. */
  audit?: AuditEntry | undefined;
}

function knownDocument(
  known: ReadonlyMap<string, Record<string, unknown>>,
  name: string,
  hash: string,
): Record<string, unknown> {
  const doc = known.get(knownKey(name, hash));
  // Postgres leaves out only what the query named as known.
  if (!doc) throw new Error(`document ${name}:${hash} was left out of the read but is not known`);
  return doc;
}

export function createWriteStore() {
  return {
    /**
     * The namespace with everything resolution needs for a write of `layer`, and the version to
     * swap against; `lock` (inside a transaction) also takes the namespace's row lock until it ends.
     * Documents in `known` are not sent again: the result takes them from there.
     */
    async readForWrite(
      q: Queryable,
      name: string,
      layer: string,
      options: { lock: boolean; known: KnownDocuments },
    ): Promise<WriteContextRow | null> {
      const { known } = options;
      const values = [name, layer, [...known.layers.keys()], [...known.resolved.keys()]];
      if (options.lock) {
        // The lock in a statement of its own, and the read in the next one. Under READ COMMITTED a
        // statement reads from the snapshot it started with: a `SELECT … FOR UPDATE` that waited
        // for a concurrent commit re-reads only the locked row, while its subqueries (layers,
        // resolved heads) still see the older snapshot. That let a stale layer revision pass the
        // If-Match check while the fresh write_version passed the swap: a lost update.
        await q.query({
          name: "layer-write-lock",
          text: "SELECT 1 FROM namespaces WHERE name = $1 FOR UPDATE",
          values: [name],
        });
      }
      const res = await q.query<ReadRow>({ name: "layer-write-read", text: READ_SQL, values });
      const r = res.rows[0];
      if (!r) return null;
      return {
        namespace: toNamespace(r),
        writeVersion: r.write_version,
        incarnation: r.incarnation,
        layers: r.layers.map((l) => ({
          namespace: r.name,
          layer: l.layer,
          revision: l.revision,
          content: l.content ?? knownDocument(known.layers, l.layer, l.hash),
          hash: l.hash,
          updatedAt: new Date(l.updated_at).toISOString(),
        })),
        dependents: r.dependents,
        dependencies: dependencyMapOf(r.dependencies),
        schema: r.schema,
        resolved: r.resolved.map((h) => ({
          namespace: r.name,
          ...h,
          ...(h.body === null ? { comparable: knownDocument(known.resolved, h.environment, h.hash) } : {}),
        })),
        gitBound: r.git_bound,
        rolloutGates: r.rollout_gates,
      };
    },

    /**
     * Revision, layer head, namespace head revision, dependencies, resolved heads, outbox events and
     * the audit line in one autocommit statement. The heads as stored (with their versions) and the
     * events' places in their subjects' order (for the relay), or null when the namespace changed
     * since it was read and nothing was stored.
     */
    async commitWrite(q: Queryable, write: CommittedWrite): Promise<CommitResult | null> {
      const plain = isPlain(write);
      const res = await q.query<CommitRow>(
        plain
          ? {
              name: `layer-write-commit-${write.heads.length}-${write.outbox.ids.length}`,
              text: plainCommitSql(write.heads.length, write.outbox.ids.length),
              values: plainParams(write),
            }
          : {
              name: "layer-write-commit",
              text: COMMIT_SQL,
              values: [
                ...revisionInsertParams(write.revision),
                write.expectedWriteVersion,
                dependenciesParam(write.dependencies),
                ...resolvedHeadsParams(write.heads),
                ...outboxInsertParams(write.outbox),
                write.others.map((o) => o.name),
                write.others.map((o) => o.writeVersion),
                write.incarnation,
                ...auditInsertParams(write.audit),
              ],
            },
      );
      return committed(write, res.rows[0]);
    },

    /** Whether `commitGroup` takes this write: a plain one. */
    groupable: isPlain,

    /**
     * Plain writes to distinct namespaces, all with the same numbers of heads and events, in one
     * autocommit statement: each applies or not by its own swap, exactly as it would alone, and
     * the answers are in the writes' order. The namespaces' rows are locked first, in name order
     * (as `COMMIT_SQL` takes its locks), so two groups never wait for each other in a cycle.
     */
    async commitGroup(q: Queryable, writes: readonly CommittedWrite[]): Promise<(CommitResult | null)[]> {
      const heads = writes[0]!.heads.length;
      const events = writes[0]!.outbox.ids.length;
      const res = await q.query<Record<string, unknown>>({
        name: `layer-write-group-${heads}-${events}x${writes.length}`,
        text: groupCommitSql(heads, events, writes.length),
        values: [...writes.flatMap(plainParams), writes.map((w) => w.revision.namespace)],
      });
      const row = res.rows[0]!;
      return writes.map((w, i) =>
        committed(w, {
          applied: row[`applied_${i}`] as number,
          versions: row[`versions_${i}`] as CommitRow["versions"],
          places: row[`places_${i}`] as OutboxPlace[],
        }),
      );
    },
  };
}
export type WriteStore = ReturnType<typeof createWriteStore>;
