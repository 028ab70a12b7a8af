import { randomBytes } from "node:crypto";
import type { BackupKind } from "@nexus/contracts";
import { quoteIdent } from "@nexus/kit";
import type { TablePart } from "./bundle-types.js";

/** `bk-20261206T210501Z-full-3f9a2c`: sorts by time, says its kind, unique by its suffix. */
export function newBackupId(kind: BackupKind, at: Date, suffix = randomBytes(3).toString("hex")): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  return `bk-${stamp}-${kind}-${suffix}`;
}

/** Where a part lives in storage: `<backup id>/<schema>.<table>.copy.gz[.enc]`. */
export function partName(schema: string, table: string, encrypted: boolean): string {
  return `${schema}.${table}.copy.gz${encrypted ? ".enc" : ""}`;
}

export const objectKey = (backupId: string, name: string) => `${backupId}/${name}`;

/** `"schema"."table"`. */
export const qualified = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

/** The statement that reads a table's rows in a stable order, as COPY text. */
export function copyOutSql(
  schema: string,
  table: string,
  part: Pick<TablePart, "columns" | "orderBy" | "orderByText">,
): string {
  const cols = part.columns.map((c) => quoteIdent(c.name)).join(", ");
  // Without a primary key, every column as text (collation C) gives one order on any server.
  const order = part.orderBy.map((c) =>
    part.orderByText ? `${quoteIdent(c)}::text COLLATE "C"` : quoteIdent(c),
  );
  return `COPY (SELECT ${cols} FROM ${qualified(schema, table)} ORDER BY ${order.join(", ")}) TO STDOUT`;
}

export function copyInSql(schema: string, table: string, part: Pick<TablePart, "columns">): string {
  return `COPY ${qualified(schema, table)} (${part.columns.map((c) => quoteIdent(c.name)).join(", ")}) FROM STDIN`;
}

/** A plain table with the part's columns and types (no constraints): the verification target. */
export function scratchTableSql(scratchSchema: string, part: TablePart): string {
  const cols = part.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(", ");
  return `CREATE TABLE ${qualified(scratchSchema, scratchTableName(part))} (${cols})`;
}

/** One scratch table per source table; the source schema is part of the name. */
export const scratchTableName = (part: Pick<TablePart, "schema" | "table">) =>
  `${part.schema}__${part.table}`;

/**
 * Tables in an order where each comes after the tables it references (foreign keys), so COPY
 * into the real tables never meets a missing parent. Self-references and cycles (not present in
 * Nexus schemas) keep their input order.
 */
export function restoreOrder<T extends Pick<TablePart, "schema" | "table" | "references">>(tables: T[]): T[] {
  const byName = new Map(tables.map((t) => [`${t.schema}.${t.table}`, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: T[] = [];
  const visit = (t: T) => {
    const name = `${t.schema}.${t.table}`;
    if (done.has(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const ref of t.references) {
      const parent = byName.get(ref);
      if (parent && ref !== name) visit(parent);
    }
    visiting.delete(name);
    done.add(name);
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

/** Differences between the migrations a backup was taken at and those a target schema has. */
export function migrationMismatch(backup: string[], target: string[]): string | undefined {
  const missing = backup.filter((m) => !target.includes(m));
  const extra = target.filter((m) => !backup.includes(m));
  if (missing.length === 0 && extra.length === 0) return undefined;
  const parts: string[] = [];
  if (missing.length) parts.push(`the target lacks ${missing.join(", ")}`);
  if (extra.length) parts.push(`the target has ${extra.join(", ")} which the backup predates`);
  return parts.join("; ");
}
