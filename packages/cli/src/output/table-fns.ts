/** Tables for people (cli-table3): borderless columns, bold headers when colours are on. No I/O. */
import Table from "cli-table3";
import type { Colors } from "./output.js";

export type Cell = string | number | null | undefined;

const BORDERLESS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
};

/** Columns separated by two spaces, a header row in capitals, no trailing spaces. */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly Cell[])[],
  colors: Colors,
): string {
  const table = new Table({
    head: head.map((h) => colors.bold(h.toUpperCase())),
    chars: BORDERLESS,
    style: { "padding-left": 0, "padding-right": 0, head: [], border: [] },
  });
  for (const row of rows) table.push(row.map((c) => (c === null || c === undefined ? "" : String(c))));
  return `${table
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")}\n`;
}

/** `label  value` lines for one record, labels aligned. */
export function renderFields(fields: readonly (readonly [string, Cell])[], colors: Colors): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return `${fields
    .map(([label, value]) => `${colors.bold(label.padEnd(width))}  ${value ?? ""}`.trimEnd())
    .join("\n")}\n`;
}

/** A list for a cell: comma-separated, or a dash when empty. */
export const listCell = (items: readonly string[]) => (items.length === 0 ? "-" : items.join(", "));

/** An ISO timestamp shortened to the second, in UTC (`2025-01-02 03:04:05Z`). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** The first 12 characters of a hash: enough to tell revisions apart on screen. */
export const shortHash = (hash: string) => hash.slice(0, 12);
