/**
 * JSON pointers (RFC 6901) of the values that differ between two resolved documents, the same
 * way the registry computes `changedPaths` in config.changed: leaves (scalars, arrays, empty
 * objects) that appeared, disappeared or changed; a key whose value turns from an object into
 * something else (or back) is listed itself and with the object's leaves. Sorted.
 */
export function changedPaths(previous: unknown, next: unknown): string[] {
  const out = new Set<string>();
  collect(previous, next, "", out);
  return [...out].sort();
}

const ABSENT = Symbol("absent");
type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function escapeToken(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

function collect(a: unknown, b: unknown, pointer: string, out: Set<string>): void {
  const aObj = isObject(a);
  const bObj = isObject(b);
  if (aObj && bObj) {
    const aKeys = Object.keys(a);
    const bKeys = Object.keys(b);
    if (aKeys.length === 0 && bKeys.length === 0) return;
    // {} is a leaf: an empty object appearing or being filled is a change at its own pointer.
    if ((aKeys.length === 0 || bKeys.length === 0) && pointer !== "") out.add(pointer);
    for (const key of aKeys) {
      collect(a[key], Object.hasOwn(b, key) ? b[key] : ABSENT, `${pointer}/${escapeToken(key)}`, out);
    }
    for (const key of bKeys) {
      if (!Object.hasOwn(a, key)) collect(ABSENT, b[key], `${pointer}/${escapeToken(key)}`, out);
    }
    return;
  }
  if (aObj || bObj) {
    const obj = (aObj ? a : b) as JsonObject;
    const other = aObj ? b : a;
    if (other !== ABSENT) out.add(pointer);
    collectLeaves(obj, pointer, out);
    return;
  }
  if (a === ABSENT || b === ABSENT || !jsonEqual(a, b)) out.add(pointer);
}

function collectLeaves(obj: JsonObject, pointer: string, out: Set<string>): void {
  const keys = Object.keys(obj);
  if (keys.length === 0 && pointer !== "") out.add(pointer);
  for (const key of keys) {
    const child = `${pointer}/${escapeToken(key)}`;
    const value = obj[key];
    if (isObject(value)) collectLeaves(value, child, out);
    else out.add(child);
  }
}

/** Structural equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const aKeys = Object.keys(a);
    if (aKeys.length !== Object.keys(b).length) return false;
    return aKeys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}
