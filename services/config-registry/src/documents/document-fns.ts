/**
 * Pure functions over configuration documents (JSON objects): canonical form and hash, layer
 * merge, RFC 6902 diffs, changed paths and RFC 7396 merge patches. No I/O, inputs are never
 * mutated.
 *
 * Keys are data: `__proto__`, `constructor` and `prototype` are copied as own properties (see
 * `setOwn`) and looked up with `Object.hasOwn`, so no document can reach `Object.prototype`.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import jsonPatch, { type Operation } from "fast-json-patch";

export type JsonObject = Record<string, unknown>;
export type { Operation as JsonPatchOperation };

/** A plain JSON object: not null, not an array, prototype `Object.prototype` or `null`. */
export function isPlainObject(value: unknown): value is JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Defines an own, enumerable data property, even for `__proto__` (a plain assignment of
 * `obj["__proto__"] = v` would change the prototype instead of adding a key).
 */
export function setOwn(target: JsonObject, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Deep copy of a JSON value (own enumerable keys only, `__proto__` kept as data). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) setOwn(out, key, cloneJson(value[key]));
    return out as T;
  }
  return value;
}

/** Freeze a JSON value and everything in it, for documents shared between requests. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

/** Structural equality of two JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** RFC 6901 escaping of one reference token. */
export function escapePointerToken(token: string): string {
  if (!token.includes("~") && !token.includes("/")) return token;
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** RFC 6901 unescaping of one reference token. */
export function unescapePointerToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** Builds a JSON pointer from raw (unescaped) tokens; `[]` → `""` (the whole document). */
export function toPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${escapePointerToken(t)}`).join("");
}

/** Splits a JSON pointer into raw tokens; `""` → `[]`. Throws on a pointer not starting with `/`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new TypeError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split("/").map(unescapePointerToken);
}

/**
 * RFC 8785 (JCS) canonical JSON. Throws a TypeError for values that have no JSON form
 * (`undefined`, functions, `NaN`, `Infinity`, BigInt).
 */
export function canonicalJson(value: unknown): string {
  try {
    metMutable = false; // a walk that threw part-way may have left it set
    return plainCanonicalJson(value);
  } catch (err) {
    if (err !== NOT_PLAIN_JSON) throw err;
  }
  // Anything beyond plain JSON data (toJSON, boxed primitives, a lone surrogate, NaN): the
  // library decides, and throws where there is no canonical form.
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError("value has no canonical JSON form");
  return out;
}

const NOT_PLAIN_JSON = Symbol("not plain JSON");

/** `String.prototype.isWellFormed` (Node 20; not yet in the TypeScript lib this repo targets). */
const isWellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();

/** Property values JSON leaves out (in arrays: `null`). */
const hasNoJsonForm = (v: unknown) => v === undefined || typeof v === "function" || typeof v === "symbol";

/**
 * JCS for what documents are made of (plain objects, arrays, well-formed strings, finite numbers,
 * booleans, null), as the `canonicalize` library writes it, property-tested against it. Resolution
 * canonicalises every document it produces, and this costs about half of the library's generic
 * walk; anything else throws NOT_PLAIN_JSON for the library to handle.
 */
function plainCanonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      if (!isWellFormed(value)) throw NOT_PLAIN_JSON;
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw NOT_PLAIN_JSON;
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      const frozen = Object.isFrozen(value);
      if (frozen) {
        const known = frozenCanonical.get(value);
        if (known !== undefined) return known;
      }
      const outer = metMutable;
      metMutable = !frozen;
      const out = Array.isArray(value) ? canonicalArray(value) : canonicalObject(value);
      if (!metMutable) frozenCanonical.set(value, out);
      metMutable = outer || metMutable;
      return out;
    }
    default:
      throw NOT_PLAIN_JSON;
  }
}

/**
 * The canonical JSON of deeply frozen objects and arrays, computed once. A write's resolution
 * shares every subtree it did not change with the layers it read, which are frozen once written
 * (`deepFreeze`), so canonicalising a large document after a small change walks only the paths
 * to the change. Kept only for an object whose every descendant object is frozen too.
 */
const frozenCanonical = new WeakMap<object, string>();
/** Whether anything met under the object being canonicalised is not frozen. */
let metMutable = false;

function canonicalArray(value: unknown[]): string {
  let out = "[";
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ",";
    const item: unknown = value[i];
    out += hasNoJsonForm(item) ? "null" : plainCanonicalJson(item);
  }
  return `${out}]`;
}

function canonicalObject(value: object): string {
  if (!isPlainObject(value) || typeof value.toJSON === "function") throw NOT_PLAIN_JSON;
  const keys = Object.keys(value).sort();
  let out = "{";
  let first = true;
  for (const key of keys) {
    const item = value[key];
    if (hasNoJsonForm(item)) continue;
    if (!isWellFormed(key)) throw NOT_PLAIN_JSON;
    out += `${first ? "" : ","}${JSON.stringify(key)}:${plainCanonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
}

/** Hex sha256 of the canonical JSON of `value`: the content hash of a revision. */
export function contentHash(value: unknown): string {
  return hashOfCanonical(canonicalJson(value));
}

/** For callers that also need the canonical text: hash it without canonicalising twice. */
export function hashOfCanonical(canonical: string): string {
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/**
 * The one merge rule for layers (base ⊕ environment overlay):
 * - two plain objects merge key by key, recursively;
 * - an array or scalar in the overlay replaces whatever the base had (arrays are not merged);
 * - `null` in the overlay deletes the key from the result; an overlay object that lands where
 *   the base had no object is copied with its `null` keys dropped, so the overlay's nulls never
 *   appear in the output (nulls inside overlay arrays are data and stay).
 * `null`s present in the base are kept: they are the base's data.
 * Neither input is mutated; the result shares no objects with the inputs.
 *
 * For an object overlay this is exactly RFC 7396 (`applyMergePatch`).
 */
export function deepMerge(base: JsonObject, overlay: JsonObject): JsonObject {
  return mergeObjects(base, overlay, cloneJson);
}

/**
 * `deepMerge` without copies: the result shares every subtree only one side has (and the
 * overlay's arrays and scalars); only objects both sides have are new. For readers that change
 * nothing they are given (the resolver, which builds its own output): a write's resolution would
 * otherwise copy the whole base document first, only to read it once.
 */
export function deepMergeShared(base: JsonObject, overlay: JsonObject): JsonObject {
  return mergeObjects(base, overlay, asItIs);
}

const asItIs = (value: unknown) => value;

/** `take`: what goes into the output of a value only one side has (a copy, or the value itself). */
function mergeObjects(base: JsonObject, overlay: JsonObject, take: (value: unknown) => unknown): JsonObject {
  // Base key order first, then the keys the overlay adds: stable output for humans.
  const out: JsonObject = {};
  for (const key of Object.keys(base)) {
    if (!Object.hasOwn(overlay, key)) setOwn(out, key, take(base[key]));
    else if (overlay[key] !== null) setOwn(out, key, mergeValue(base[key], overlay[key], take));
  }
  for (const key of Object.keys(overlay)) {
    if (Object.hasOwn(base, key) || overlay[key] === null) continue;
    setOwn(out, key, mergeValue(undefined, overlay[key], take));
  }
  return out;
}

function mergeValue(baseValue: unknown, value: unknown, take: (value: unknown) => unknown): unknown {
  // An overlay object is always rebuilt: its nulls delete keys, even where the base has none.
  if (isPlainObject(value)) return mergeObjects(isPlainObject(baseValue) ? baseValue : {}, value, take);
  return take(value);
}

/**
 * RFC 7396 JSON Merge Patch. Implemented here rather than with the `json-merge-patch` package:
 * that package ships no types, and on a `__proto__` / `constructor` / `prototype` key it stops
 * applying the rest of the patch without an error, while here those keys are ordinary data.
 * A non-object patch replaces the target; inputs are not mutated.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return cloneJson(patch);
  return mergeObjects(isPlainObject(target) ? target : {}, patch, cloneJson);
}

/** RFC 6902 operations that turn `from` into `to` (fast-json-patch `compare`). */
export function diffDocuments(from: JsonObject, to: JsonObject): Operation[] {
  return jsonPatch.compare(from, to);
}

/**
 * Sorted, de-duplicated JSON pointers of the leaves that differ between two documents: keys
 * added, removed or changed. Objects are walked into (an added or removed object reports each
 * of its leaves; an empty object is itself a leaf); arrays are leaves (a changed array is
 * reported once, at the array's pointer). When a key changes between an object and a
 * non-object, both the key itself and the object's leaves are reported.
 */
export function changedPaths(from: unknown, to: unknown): string[] {
  const out = new Set<string>();
  collectChanges(from, to, [], out);
  return [...out].sort();
}

const ABSENT = Symbol("absent");

/** The pointer of the key path walked so far: built only for what is reported. */
function pointerOf(path: readonly string[]): string {
  let pointer = "";
  for (const token of path) pointer += `/${escapePointerToken(token)}`;
  return pointer;
}

function collectChanges(a: unknown, b: unknown, path: string[], out: Set<string>): void {
  if (a === b) return;
  const aObj = isPlainObject(a);
  const bObj = isPlainObject(b);
  if (aObj && bObj) {
    const aKeys = Object.keys(a);
    const bKeys = Object.keys(b);
    if (aKeys.length === 0 && bKeys.length === 0) return;
    if (aKeys.length === 0 || bKeys.length === 0) {
      // {} is a leaf: an empty object appearing or being filled is a change at its pointer.
      if (path.length > 0) out.add(pointerOf(path));
    }
    for (const key of aKeys) {
      path.push(key);
      collectChanges(a[key], Object.hasOwn(b, key) ? b[key] : ABSENT, path, out);
      path.pop();
    }
    for (const key of bKeys) {
      if (Object.hasOwn(a, key)) continue;
      path.push(key);
      collectChanges(ABSENT, b[key], path, out);
      path.pop();
    }
    return;
  }
  if (aObj || bObj) {
    // An object on one side only: its leaves appear or disappear, and the key itself changes
    // unless the other side is absent.
    const obj = (aObj ? a : b) as JsonObject;
    const other = aObj ? b : a;
    const pointer = pointerOf(path);
    if (other !== ABSENT) out.add(pointer);
    collectLeaves(obj, pointer, out);
    return;
  }
  if (a === ABSENT || b === ABSENT || !jsonEqual(a, b)) out.add(pointerOf(path));
}

function collectLeaves(obj: JsonObject, pointer: string, out: Set<string>): void {
  const keys = Object.keys(obj);
  if (keys.length === 0) {
    out.add(pointer);
    return;
  }
  for (const key of keys) {
    const child = `${pointer}/${escapePointerToken(key)}`;
    const value = obj[key];
    if (isPlainObject(value)) collectLeaves(value, child, out);
    else out.add(child);
  }
}
