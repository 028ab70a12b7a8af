/** What a promotion writes and what a rollout has reached. No I/O. */
import jsonPatch from "fast-json-patch";
import type { JsonObject, LayerRef } from "./step-types.js";

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** `/a/b~1c` → ["a", "b/c"] (RFC 6901). */
export function pointerTokens(pointer: string): string[] {
  return pointer
    .split("/")
    .slice(1)
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function getAt(doc: JsonObject, tokens: readonly string[]): { found: boolean; value?: unknown } {
  let cur: unknown = doc;
  for (const t of tokens) {
    if (!isObject(cur) || !Object.hasOwn(cur, t)) return { found: false };
    cur = cur[t];
  }
  return { found: true, value: cur };
}

function setAt(doc: JsonObject, tokens: readonly string[], value: unknown): void {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (!isObject(cur[t]))
      Object.defineProperty(cur, t, { value: {}, enumerable: true, writable: true, configurable: true });
    cur = cur[t] as JsonObject;
  }
  const last = tokens[tokens.length - 1]!;
  Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true });
}

function deleteAt(doc: JsonObject, tokens: readonly string[]): void {
  const parent = getAt(doc, tokens.slice(0, -1));
  if (parent.found && isObject(parent.value)) delete parent.value[tokens[tokens.length - 1]!];
}

/**
 * The target overlay a promotion writes: the source overlay's content, except at pinned paths,
 * where the target keeps what it has (or keeps not having it). Inputs are not mutated.
 */
export function promotedContent(
  source: JsonObject,
  target: JsonObject,
  pinnedPaths: readonly string[],
): JsonObject {
  const out = structuredClone(source);
  for (const pointer of pinnedPaths) {
    const tokens = pointerTokens(pointer);
    const kept = getAt(target, tokens);
    if (kept.found) setAt(out, tokens, structuredClone(kept.value));
    else deleteAt(out, tokens);
  }
  return out;
}

/**
 * The secret pointers (from a resolved document's `secretDigests`) that this overlay itself sets:
 * values a layer write cannot carry as secrets (reads give them redacted, or in plain text to a
 * secret-reader), so a promotion must neither copy nor rewrite them.
 */
export function secretsIn(overlay: JsonObject, secretPointers: readonly string[]): string[] {
  return secretPointers.filter((p) => getAt(overlay, pointerTokens(p)).found);
}

/** What a promotion would change in the target overlay, one RFC 6902 operation a line. */
export function previewLines(before: JsonObject, after: JsonObject, maxValueChars = 200): string[] {
  return jsonPatch.compare(before, after).map((op) => {
    if (op.op === "remove") return `remove ${op.path}`;
    const value = "value" in op ? JSON.stringify(op.value) : "";
    const shown = value.length > maxValueChars ? `${value.slice(0, maxValueChars)}…` : value;
    return `${op.op} ${op.path} = ${shown}`;
  });
}

/** Key-order-insensitive JSON equality (documents come back from JSONB in its own key order). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => sameJson(v, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}

export interface RolloutInstance {
  instanceId?: string;
  revision: number | null;
  status: string;
  rejected: { revision: number } | null;
}

export interface RolloutProgress {
  live: number;
  applied: number;
  rejected: number;
  percent: number;
}

/** Live instances (running now, from the registry or their cache) and how many run `revision` or newer. */
export function rolloutProgress(instances: readonly RolloutInstance[], revision: number): RolloutProgress {
  const live = instances.filter((i) => i.status === "live" || i.status === "cache");
  const applied = live.filter((i) => i.revision !== null && i.revision >= revision).length;
  const rejected = live.filter((i) => i.rejected !== null && i.rejected.revision >= revision).length;
  return {
    live: live.length,
    applied,
    rejected,
    percent: live.length === 0 ? 100 : Math.floor((applied / live.length) * 10_000) / 100,
  };
}

/**
 * The inventory with the applied-acks seen since it was read: an instance that acked a newer
 * revision than the inventory shows runs it (the drift-detector ingests acks in batches).
 */
export function withSeenAcks<T extends RolloutInstance>(
  instances: readonly T[],
  seen: ReadonlyMap<string, number>,
): T[] {
  if (seen.size === 0) return [...instances];
  return instances.map((i) => {
    const acked = i.instanceId === undefined ? undefined : seen.get(i.instanceId);
    return acked !== undefined && acked > (i.revision ?? -1) ? { ...i, revision: acked } : i;
  });
}

/** What a run stores of a layer it found: the revision only (the content is read back when needed). */
export const refOf = (layer: { revision: number }): LayerRef => ({ revision: layer.revision });
