import { quoteIdent, type SealingKeys } from "@nexus/kit";
import type pg from "pg";
import { migrationMismatch, qualified, restoreOrder } from "../bundle/bundle-fns.js";
import type { Manifest } from "../bundle/bundle-types.js";
import type { BundleStorage } from "../storage/storage-types.js";
import { ingestTable } from "./ingest.js";

export interface RestorePlanTable {
  table: string;
  rowsNow: number | null;
  rowsInBackup: number;
}

export interface RestorePlan {
  backupId: string;
  snapshotAt: string;
  tables: RestorePlanTable[];
  /** Why the restore cannot run (schemas at other migrations, missing tables); empty when it can. */
  problems: string[];
}

async function migrationsOf(client: pg.ClientBase, schema: string): Promise<string[] | null> {
  const out: string[] = [];
  let any = false;
  for (const [table, label] of [
    ["kit_migrations", "kit:"],
    ["migrations", ""],
  ] as const) {
    const exists = await client.query<{ r: string | null }>("SELECT to_regclass($1) AS r", [
      `${quoteIdent(schema)}.${table}`,
    ]);
    if (!exists.rows[0]?.r) continue;
    any = true;
    const rows = await client.query<{ name: string }>(
      `SELECT name FROM ${quoteIdent(schema)}.${table} ORDER BY run_on, id`,
    );
    out.push(...rows.rows.map((r) => `${label}${r.name}`));
  }
  return any ? out : null;
}

/**
 * What a whole-system restore would do: each table's rows now and in the backup, and anything
 * that stops it (a service schema missing or migrated to another version than the backup's:
 * start that service's version first, it creates its tables).
 */
export async function planSystemRestore(client: pg.ClientBase, manifest: Manifest): Promise<RestorePlan> {
  const problems: string[] = [];
  for (const s of manifest.schemas) {
    const now = await migrationsOf(client, s.name);
    if (now === null) {
      if (s.migrations.length > 0)
        problems.push(`schema ${s.name} has no migrations: start its service once to create it`);
      continue;
    }
    const mismatch = migrationMismatch(s.migrations, now);
    if (mismatch) problems.push(`schema ${s.name} is at other migrations than the backup: ${mismatch}`);
  }
  const tables: RestorePlanTable[] = [];
  for (const t of manifest.tables) {
    const exists = await client.query<{ r: string | null }>("SELECT to_regclass($1) AS r", [
      qualified(t.schema, t.table),
    ]);
    let rowsNow: number | null = null;
    if (exists.rows[0]?.r) {
      const n = await client.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${qualified(t.schema, t.table)}`,
      );
      rowsNow = Number(n.rows[0]!.n);
    } else problems.push(`table ${t.schema}.${t.table} does not exist`);
    tables.push({ table: `${t.schema}.${t.table}`, rowsNow, rowsInBackup: t.rows });
  }
  return { backupId: manifest.id, snapshotAt: manifest.snapshotAt, tables, problems };
}

/**
 * Tables that refuse TRUNCATE by a trigger of their own (the kit's append-only `audit_log`).
 * A restore keeps their rows and adds the backup's missing ones: history is never rewritten,
 * and what happened after the backup (the restore itself included) stays on record.
 */
async function appendOnlyTables(client: pg.ClientBase, tables: Manifest["tables"]): Promise<Set<string>> {
  const r = await client.query<{ name: string }>(
    `SELECT DISTINCT n.nspname || '.' || c.relname AS name
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND (t.tgtype & 32) <> 0
        AND n.nspname || '.' || c.relname = ANY($1)`,
    [tables.map((t) => `${t.schema}.${t.table}`)],
  );
  return new Set(r.rows.map((x) => x.name));
}

/**
 * Put every service schema back to the backup's point, in one transaction: empty the tables,
 * COPY each part in (parents before children), move the sequences forward to at least the
 * backup's values (never back: ids, and versions other services or caches hold, are not
 * reused). Append-only tables keep their rows and get the backup's missing ones. Either all of
 * it commits or none. Stop the services first (they hold caches and would write meanwhile).
 * The caller has checked the parts' checksums and the plan's problems.
 */
export async function restoreSystem(input: {
  client: pg.ClientBase;
  storage: BundleStorage;
  /** The backup's chain, oldest first (just the backup for a full one). */
  chain: Manifest[];
  keys: SealingKeys | null;
  onTable?: (done: number, total: number, table: string) => void | Promise<void>;
}): Promise<{ tables: number; rows: number }> {
  const { client, storage, chain, keys } = input;
  const manifest = chain.at(-1)!;
  const ordered = restoreOrder(manifest.tables);
  await client.query("BEGIN");
  try {
    const appendOnly = await appendOnlyTables(client, ordered);
    const replaced = ordered.filter((t) => !appendOnly.has(`${t.schema}.${t.table}`));
    if (replaced.length > 0)
      await client.query(`TRUNCATE ${replaced.map((t) => qualified(t.schema, t.table)).join(", ")}`);
    let done = 0;
    let rows = 0;
    for (const part of ordered) {
      const name = `${part.schema}.${part.table}`;
      await input.onTable?.(done, ordered.length, name);
      if (appendOnly.has(name)) {
        const staging = `restore_${done}`;
        await client.query(
          `CREATE TEMP TABLE ${quoteIdent(staging)} (LIKE ${qualified(part.schema, part.table)} INCLUDING DEFAULTS) ON COMMIT DROP`,
        );
        await ingestTable({
          client,
          target: { schema: "pg_temp", table: staging },
          chain,
          part,
          storage,
          keys,
        });
        const cols = part.columns.map((c) => quoteIdent(c.name)).join(", ");
        await client.query(
          `INSERT INTO ${qualified(part.schema, part.table)} (${cols}) SELECT ${cols} FROM pg_temp.${quoteIdent(staging)} ON CONFLICT DO NOTHING`,
        );
      } else await ingestTable({ client, target: part, chain, part, storage, keys });
      rows += part.rows;
      done++;
    }
    for (const s of manifest.schemas)
      for (const seq of s.sequences) {
        if (seq.lastValue === null) continue;
        const name = qualified(s.name, seq.name);
        await client.query(
          `SELECT setval($1::regclass, GREATEST($2::bigint, (SELECT coalesce(last_value, 0) FROM pg_sequences WHERE schemaname = $3 AND sequencename = $4)), true)`,
          [name, seq.lastValue, s.name, seq.name],
        );
      }
    await client.query("COMMIT");
    return { tables: ordered.length, rows };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
