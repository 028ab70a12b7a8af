import { quoteIdent } from "@nexus/kit";
import pg from "pg";
import { qualified } from "./bundle-fns.js";
import type { TablePart, Watermarks } from "./bundle-types.js";

/**
 * A history table: rows are only ever added, numbered per group by a sequence column that commits
 * in order within the group (the registry writes a namespace's revisions under a compare-and-swap
 * on the namespace, so revision n+1 never commits before n). An incremental backup stores only the
 * rows above the parent's newest number per group. A group deleted and re-created starts again at
 * 1, so each group's incarnation (the owner row's creation time) is part of the watermark.
 */
export interface HistoryTable {
  schema: string;
  table: string;
  group: string;
  sequence: string;
  /** The rows that own the groups, and their incarnation: `SELECT <key>, <incarnation>::text FROM …`. */
  owner: { table: string; key: string; incarnation: string };
}

/** "Revisions since the last backup": the registry's revision history. */
export const HISTORY_TABLES: readonly HistoryTable[] = [
  {
    schema: "config_registry",
    table: "revisions",
    group: "namespace",
    sequence: "revision",
    owner: { table: "namespaces", key: "name", incarnation: "created_at" },
  },
];

export const historyKey = (h: Pick<HistoryTable, "schema" | "table">) => `${h.schema}.${h.table}`;

/** The statement that reads a history table's watermark (group, incarnation, newest number). */
export function watermarkSql(h: HistoryTable): string {
  const owner = qualified(h.schema, h.owner.table);
  const rows = qualified(h.schema, h.table);
  const [key, incarnation, sequence, group] = [h.owner.key, h.owner.incarnation, h.sequence, h.group].map(
    quoteIdent,
  );
  return `SELECT o.${key} AS "group", o.${incarnation}::text AS incarnation,
                 coalesce((SELECT max(r.${sequence}) FROM ${rows} r WHERE r.${group} = o.${key}), 0)::int AS max
            FROM ${owner} o`;
}

/**
 * What an incremental needs of a history table, from the parent's watermark and the groups now:
 * the newest number to skip per group that is the same incarnation, and the groups whose earlier
 * rows a restore must drop (deleted, or re-created and numbered from 1 again).
 */
export function deltaPlan(
  parent: Watermarks[string] | undefined,
  now: Watermarks[string],
): { skipUpTo: Record<string, number>; resets: string[] } {
  const skipUpTo: Record<string, number> = {};
  const resets: string[] = [];
  for (const [group, before] of Object.entries(parent ?? {})) {
    const current = now[group];
    if (current && current.incarnation === before.incarnation) skipUpTo[group] = before.max;
    else resets.push(group);
  }
  return { skipUpTo, resets: resets.sort() };
}

/** COPY of the rows added since the parent: above the skipped number of their group. */
export function deltaCopySql(
  h: HistoryTable,
  part: Pick<TablePart, "columns" | "orderBy">,
  skipUpTo: Record<string, number>,
): string {
  const cols = part.columns.map((c) => quoteIdent(c.name)).join(", ");
  const order = part.orderBy.map(quoteIdent).join(", ");
  // COPY takes no parameters: the numbers go in as one escaped JSON literal.
  const skip = pg.escapeLiteral(JSON.stringify(skipUpTo));
  return `COPY (SELECT ${cols} FROM ${qualified(h.schema, h.table)}
             WHERE ${quoteIdent(h.sequence)} > coalesce((${skip}::jsonb ->> ${quoteIdent(h.group)})::bigint, 0)
             ORDER BY ${order}) TO STDOUT`;
}
