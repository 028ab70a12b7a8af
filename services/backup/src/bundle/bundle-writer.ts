import { createHash } from "node:crypto";
import { PassThrough, Readable, type Transform } from "node:stream";
import { createGzip } from "node:zlib";
import type { BackupKind } from "@nexus/contracts";
import { quoteIdent, type SealingKeys } from "@nexus/kit";
import type pg from "pg";
import copyStreams from "pg-copy-streams";
import type { BundleStorage } from "../storage/storage-types.js";
import { copyOutSql, objectKey, partName } from "./bundle-fns.js";
import {
  BUNDLE_FORMAT,
  MANIFEST_NAME,
  type Manifest,
  type SchemaState,
  type TablePart,
  type Watermarks,
} from "./bundle-types.js";
import { createEncryptStream } from "./crypto-stream.js";
import { createDigestStream, drain, pipeAll } from "./hash-stream.js";
import { deltaCopySql, deltaPlan, HISTORY_TABLES, historyKey, watermarkSql } from "./history-fns.js";

/** Tables the kit's migrator keeps: recorded as the schema's migration state, not as data. */
const MIGRATION_TABLES = ["kit_migrations", "migrations"];

export interface BundleProgress {
  tablesDone: number;
  tablesTotal: number;
  rows: number;
  bytes: number;
  /** The table being copied, `schema.table`. */
  current?: string | undefined;
}

export interface WriteBundleInput {
  /** A dedicated connection: the whole bundle is read in one REPEATABLE READ snapshot on it. */
  client: pg.ClientBase;
  storage: BundleStorage;
  id: string;
  kind: BackupKind;
  schemas: readonly string[];
  /** Encrypt every part with the active backup key; null stores them compressed only. */
  keys: SealingKeys | null;
  /** For an incremental backup: the parent's manifest (history tables then hold only newer rows). */
  parent?: Manifest | null | undefined;
  onProgress?: (p: BundleProgress) => void | Promise<void>;
}

interface TableRow {
  schema: string;
  table: string;
  columns: { name: string; type: string }[];
  pk: string[] | null;
  references: string[];
}

/** Every table of the schemas, its columns (generated ones left out), primary key and parents. */
const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS table,
  (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
     FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
  (SELECT json_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))
     FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
  (SELECT coalesce(json_agg(DISTINCT rn.nspname || '.' || rc.relname), '[]'::json)
     FROM pg_constraint f JOIN pg_class rc ON rc.oid = f.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE f.conrelid = c.oid AND f.contype = 'f') AS references
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> ALL($2)
ORDER BY n.nspname, c.relname`;

async function schemaState(client: pg.ClientBase, schema: string): Promise<SchemaState> {
  const migrations: string[] = [];
  for (const [table, label] of [
    ["kit_migrations", "kit:"],
    ["migrations", ""],
  ] as const) {
    const exists = await client.query<{ r: string | null }>("SELECT to_regclass($1) AS r", [
      `${quoteIdent(schema)}.${table}`,
    ]);
    if (!exists.rows[0]?.r) continue;
    const rows = await client.query<{ name: string }>(
      `SELECT name FROM ${quoteIdent(schema)}.${table} ORDER BY run_on, id`,
    );
    migrations.push(...rows.rows.map((r) => `${label}${r.name}`));
  }
  const seqs = await client.query<{ name: string; last_value: string | null }>(
    "SELECT sequencename AS name, last_value::text FROM pg_sequences WHERE schemaname = $1 ORDER BY sequencename",
    [schema],
  );
  return {
    name: schema,
    migrations,
    sequences: seqs.rows.map((s) => ({ name: s.name, lastValue: s.last_value })),
  };
}

/** Stream `source` through `stages` into storage; an error on either side stops both. */
export async function storeThrough(
  storage: BundleStorage,
  key: string,
  source: NodeJS.ReadableStream,
  stages: Transform[],
): Promise<void> {
  const out = new PassThrough();
  const put = storage.put(key, out).catch((err) => {
    out.destroy(err);
    throw err;
  });
  await Promise.all([pipeAll([source, ...stages, out]), put]);
}

/**
 * Write a full bundle: every table of the schemas, read in one REPEATABLE READ READ ONLY
 * transaction (one snapshot across services: the bundle is a point in time even while services
 * write), each streamed COPY → sha256/row count → gzip → encrypt → sha256 → storage, then the
 * manifest. Returns the manifest; nothing is kept in memory beyond one chunk per stage.
 */
export async function writeBundle(
  input: WriteBundleInput,
): Promise<{ manifest: Manifest; manifestSha256: string }> {
  const { client, storage, id, keys } = input;
  const createdAt = new Date().toISOString();
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    // The first statement fixes the snapshot; its time is the backup's point.
    const at = await client.query<{ at: Date }>("SELECT statement_timestamp() AS at");
    const snapshotAt = at.rows[0]!.at.toISOString();
    const found = await client.query<TableRow>(TABLES_SQL, [input.schemas, MIGRATION_TABLES]);
    const schemas: SchemaState[] = [];
    for (const s of input.schemas) schemas.push(await schemaState(client, s));

    const watermarks: Watermarks = {};
    for (const h of HISTORY_TABLES) {
      if (!found.rows.some((t) => t.schema === h.schema && t.table === h.table)) continue;
      const rows = await client.query<{ group: string; incarnation: string; max: number }>(watermarkSql(h));
      watermarks[historyKey(h)] = Object.fromEntries(
        rows.rows.map((r) => [r.group, { incarnation: r.incarnation, max: r.max }]),
      );
    }

    const progress: BundleProgress = { tablesDone: 0, tablesTotal: found.rows.length, rows: 0, bytes: 0 };
    const tables: TablePart[] = [];
    for (const t of found.rows) {
      progress.current = `${t.schema}.${t.table}`;
      await input.onProgress?.({ ...progress });
      const shape = {
        columns: t.columns,
        orderBy: t.pk ?? t.columns.map((c) => c.name),
        orderByText: !t.pk,
      };
      const name = partName(t.schema, t.table, keys !== null);
      const plain = createDigestStream({ countRows: true });
      const stored = createDigestStream();
      const sealing = [
        createGzip({ level: 6 }),
        ...(keys ? [createEncryptStream(keys, `${id}/${name}`)] : []),
        stored.stream,
      ];
      const history = HISTORY_TABLES.find((h) => h.schema === t.schema && h.table === t.table);
      const parentMarks = history && input.parent?.watermarks[historyKey(history)];
      let delta: TablePart["delta"];
      if (history && parentMarks) {
        // The whole table is read for its content hash; only the rows added since the parent are stored.
        const plan = deltaPlan(parentMarks, watermarks[historyKey(history)] ?? {});
        await pipeAll([
          client.query(copyStreams.to(copyOutSql(t.schema, t.table, shape))),
          plain.stream,
          drain(),
        ]);
        const added = createDigestStream({ countRows: true });
        const copy = client.query(copyStreams.to(deltaCopySql(history, shape, plan.skipUpTo)));
        await storeThrough(storage, objectKey(id, name), copy, [added.stream, ...sealing]);
        delta = { rows: added.result().rows, resets: plan.resets };
      } else {
        const copy = client.query(copyStreams.to(copyOutSql(t.schema, t.table, shape)));
        await storeThrough(storage, objectKey(id, name), copy, [plain.stream, ...sealing]);
      }
      const p = plain.result();
      const s = stored.result();
      tables.push({
        schema: t.schema,
        table: t.table,
        ...shape,
        references: t.references,
        rows: p.rows,
        contentSha256: p.sha256,
        part: { name, bytes: s.bytes, sha256: s.sha256 },
        ...(delta ? { delta } : {}),
      });
      progress.tablesDone++;
      progress.rows += p.rows;
      progress.bytes += s.bytes;
    }
    await client.query("COMMIT");
    progress.current = undefined;
    await input.onProgress?.({ ...progress });

    const manifest: Manifest = {
      format: BUNDLE_FORMAT,
      id,
      kind: input.kind,
      parent: input.parent?.id ?? null,
      watermarks,
      createdAt,
      snapshotAt,
      compression: "gzip",
      encryption: keys ? { algorithm: "aes-256-gcm-chunked", keyId: keys.activeKeyId } : null,
      schemas,
      tables,
    };
    const text = Buffer.from(JSON.stringify(manifest, null, 1));
    await storage.put(objectKey(id, MANIFEST_NAME), Readable.from([text]));
    return { manifest, manifestSha256: createHash("sha256").update(text).digest("hex") };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
