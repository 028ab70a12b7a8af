import { BadRequestError } from "../errors.js";

/**
 * What every Nexus API refuses before a handler sees it, the same way on every route and in
 * every format (the registry's YAML and `.env` parsers apply `assertCleanValue` too):
 * - bodies that are not valid UTF-8 (never silently replaced by U+FFFD);
 * - `\u0000` and lone surrogates in any string, key or query value (Postgres cannot store them;
 *   other stores and tools disagree on them);
 * - the keys `__proto__`, `constructor` and `prototype` anywhere in a body (the ways prototype
 *   pollution gets in; JSON, YAML, `.env` and merge libraries each treat them differently);
 * - nesting deeper than `MAX_BODY_DEPTH` (every later step that recurses, a JSON Schema compile
 *   among them, would overflow the stack).
 * Each refusal is a 400 with the JSON pointer (or query parameter) of what failed in `field`.
 */

export const MAX_BODY_DEPTH = 64;
export const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const escapeToken = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/** A string Postgres, JSON and every client can carry exactly: no NUL, no lone surrogate. */
export function isCleanText(s: string): boolean {
  return !NOT_CLEAN.test(s);
}
// Built from a string: a NUL written in a regex literal reads as a mistake to linters and people.
const NOT_CLEAN_SOURCE =
  "\\u0000|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]";
const NOT_CLEAN = new RegExp(NOT_CLEAN_SOURCE);

/** A pointer or name safe to echo, log and store: the bad characters spelled as escapes. */
function printable(s: string): string {
  return s.replace(NOT_CLEAN_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
const NOT_CLEAN_ALL = new RegExp(NOT_CLEAN_SOURCE, "g");

/** A 400 `invalid_character` naming where (a JSON pointer or a query parameter). */
export function badText(unsafeField: string, what: string): BadRequestError {
  const field = printable(unsafeField);
  return new BadRequestError(
    "invalid_character",
    `${what} at ${field === "" ? "the root" : field} holds a NUL character (\\u0000) or a lone UTF-16 surrogate, which cannot be stored`,
    { field },
  );
}

/**
 * Walk a parsed value (iteratively: a deep one cannot overflow this check) and refuse what the
 * module comment lists. `maxDepth` counts containers below the root. Every HTTP body and every
 * event passes here, nearly all of them clean: a first walk only decides, and only a value that
 * fails is walked again to say where (building each node's JSON pointer cost more than the rest
 * of the walk, and more than the zod parse of a small event).
 */
export function assertCleanValue(root: unknown, maxDepth = MAX_BODY_DEPTH): void {
  if (!isCleanTree(root, maxDepth)) refuseUnclean(root, maxDepth);
}

function isCleanTree(root: unknown, maxDepth: number): boolean {
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === "string") {
      if (NOT_CLEAN.test(value)) return false;
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth > maxDepth) return false;
    if (Array.isArray(value)) {
      for (const item of value) {
        values.push(item);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      if (NOT_CLEAN.test(key) || RESERVED_KEYS.has(key)) return false;
      values.push((value as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return true;
}

/** The same walk as `isCleanTree`, in the order that names the first failing place; throws it. */
function refuseUnclean(root: unknown, maxDepth: number): void {
  const stack: { value: unknown; pointer: string; depth: number }[] = [
    { value: root, pointer: "", depth: 0 },
  ];
  while (stack.length > 0) {
    const { value, pointer, depth } = stack.pop()!;
    if (typeof value === "string") {
      if (!isCleanText(value)) throw badText(pointer, "the value");
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth > maxDepth) {
      throw new BadRequestError(
        "content_too_deep",
        `the body nests deeper than ${maxDepth} levels at ${pointer}; at most ${maxDepth} are accepted`,
        { field: pointer, details: { maxDepth } },
      );
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], pointer: `${pointer}/${i}`, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(value)) {
      const at = `${pointer}/${escapeToken(key)}`;
      if (!isCleanText(key)) throw badText(at, "the key");
      if (RESERVED_KEYS.has(key)) throw reservedKey(at, key);
      stack.push({ value: (value as Record<string, unknown>)[key], pointer: at, depth: depth + 1 });
    }
  }
}

export function reservedKey(field: string, key: string): BadRequestError {
  return new BadRequestError(
    "reserved_key",
    `the key "${key}" at ${field} is not accepted in any document (nor are __proto__, constructor and prototype)`,
    { field },
  );
}

/** Strict UTF-8: a body that is not is refused, never repaired. A leading BOM is dropped. */
export function decodeUtf8(body: Buffer | Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new BadRequestError("malformed_body", "the request body is not valid UTF-8", { field: "body" });
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** JSON bodies: strict UTF-8, `JSON.parse`, then `assertCleanValue`. */
export function parseStrictJson(body: Buffer | Uint8Array | string): unknown {
  const text = typeof body === "string" ? body : decodeUtf8(body);
  if (text.trim() === "") throw new BadRequestError("malformed_body", "The body is empty", { field: "body" });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BadRequestError(
      "malformed_body",
      `The body is not valid JSON: ${(e as Error).message.split(",")[0]}`,
      {
        field: "body",
      },
    );
  }
  assertCleanValue(value);
  return value;
}
