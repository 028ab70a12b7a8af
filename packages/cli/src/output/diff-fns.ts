/**
 * Diffs for people: RFC 6902 operations turned into `+ / - / ~` lines that show the old value
 * next to the new one, coloured when colours are on. No I/O.
 */
import jsonPatch, { type Operation } from "fast-json-patch";
import type { PatchOperation } from "../api-types.js";
import type { Colors } from "./output.js";

export interface DiffEntry {
  kind: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  /** Source pointer of `move` / `copy`. */
  from?: string;
  /** Whether the value before the change is known (`before` may itself be `null`). */
  hasBefore: boolean;
  before?: unknown;
  hasAfter: boolean;
  after?: unknown;
}

/** RFC 6902 operations turning `from` into `to`. */
export function diffDocuments(from: object, to: object): PatchOperation[] {
  return jsonPatch.compare(from, to) as PatchOperation[];
}

/**
 * What each operation does to `base`, with the value it replaces or removes. Operations apply in
 * order (a later one sees the earlier ones' effect); once one does not apply, old values are
 * no longer looked up.
 */
export function describeOperations(ops: readonly PatchOperation[], base: object | undefined): DiffEntry[] {
  let doc: unknown = base === undefined ? undefined : jsonPatch.deepClone(base);
  const entries: DiffEntry[] = [];
  for (const op of ops) {
    const kind = (["add", "remove", "replace", "move", "copy", "test"] as const).find((k) => k === op.op);
    if (!kind) continue;
    const before = doc === undefined ? { found: false } : lookup(doc, op.path);
    const entry: DiffEntry = {
      kind,
      path: op.path,
      hasBefore: before.found,
      ...(before.found ? { before: before.value } : {}),
      hasAfter: false,
    };
    if (op.from !== undefined) entry.from = op.from;
    if (kind === "add" || kind === "replace" || kind === "test") {
      entry.hasAfter = true;
      entry.after = op.value;
    } else if ((kind === "move" || kind === "copy") && doc !== undefined && op.from !== undefined) {
      const source = lookup(doc, op.from);
      if (source.found) {
        entry.hasAfter = true;
        entry.after = source.value;
      }
    }
    if (kind !== "test") entries.push(entry);
    if (doc !== undefined) {
      try {
        doc = jsonPatch.applyOperation(doc, op as Operation, true, true).newDocument;
      } catch {
        doc = undefined;
      }
    }
  }
  return entries;
}

function lookup(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === "") return { found: true, value: doc };
  let current: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current)) {
      const i = Number(token);
      if (!/^\d+$/.test(token) || i >= current.length) return { found: false };
      current = current[i];
    } else if (typeof current === "object" && current !== null && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

/** A value on one line: JSON, so strings keep their quotes and `"1"` differs from `1`. */
export function formatValue(value: unknown): string {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}

/** One line per entry: `+ /path: new`, `- /path: old`, `~ /path: old → new`. */
export function renderDiffLines(entries: readonly DiffEntry[], colors: Colors, indent = ""): string[] {
  return entries.map((e) => {
    const path = e.path === "" ? "(root)" : e.path;
    switch (e.kind) {
      case "add":
        return indent + colors.green(`+ ${path}: ${formatValue(e.after)}`);
      case "remove":
        return indent + colors.red(`- ${path}${e.hasBefore ? `: ${formatValue(e.before)}` : ""}`);
      case "replace":
        return (
          indent +
          colors.yellow(`~ ${path}: `) +
          (e.hasBefore ? `${colors.red(formatValue(e.before))} → ` : "") +
          colors.green(formatValue(e.after))
        );
      default:
        return (
          indent +
          colors.cyan(`${e.kind === "move" ? ">" : "="} ${path} ← ${e.from ?? "?"}`) +
          (e.hasAfter ? `: ${formatValue(e.after)}` : "")
        );
    }
  });
}

/** A JSON-friendly view of entries for `--json` (absent values left out). */
export function entriesAsJson(entries: readonly DiffEntry[]) {
  return entries.map((e) => ({
    op: e.kind,
    path: e.path,
    ...(e.from !== undefined ? { from: e.from } : {}),
    ...(e.hasBefore ? { before: e.before } : {}),
    ...(e.hasAfter ? { after: e.after } : {}),
  }));
}
