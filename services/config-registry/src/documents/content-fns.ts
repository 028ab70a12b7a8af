/**
 * Request bodies in, response bodies out: JSON, YAML and `.env` documents, parsed safely into
 * plain JSON objects and rendered back. No I/O.
 *
 * Accepted media types (case-insensitive, parameters allowed; a `charset` must be UTF-8):
 * | format | media types |
 * |---|---|
 * | json | `application/json`, `application/<anything>+json`; also a missing Content-Type |
 * | yaml | `application/yaml`, `application/x-yaml`, `text/yaml`, `text/x-yaml` |
 * | env  | `application/x-env`, `text/x-env`, `text/plain; format=dotenv` |
 * Anything else is a 415 `UnsupportedMediaTypeError`.
 *
 * Errors (all `BadRequestError`, 400):
 * - `malformed_body`: the text does not parse (message and `details` carry line / column where
 *   the parser knows them), is not UTF-8, or breaks a YAML safety rule (duplicate keys, tags
 *   outside the JSON types, non-scalar keys, too many alias expansions, several documents);
 * - `content_not_object`: it parses, but to an array, a scalar or null;
 * - `content_not_json`: a value JSON cannot carry (`.inf`, `.nan`, dates, binary, ...), with
 *   `field` = its JSON pointer;
 * - `content_too_deep`: nesting deeper than `MAX_DOCUMENT_DEPTH`.
 */
import {
  assertCleanValue,
  BadRequestError,
  decodeUtf8,
  RESERVED_KEYS,
  reservedKey,
  UnsupportedMediaTypeError,
} from "@nexus/kit";
import { parse as parseDotenv } from "dotenv";
import { escapePointerToken, isPlainObject, type JsonObject, setOwn } from "./document-fns.js";
import { parseYamlText } from "./yaml-content-fns.js";

export { YAML_MAX_ALIAS_COUNT } from "./yaml-content-fns.js";

export type ContentFormat = "json" | "yaml" | "env";

/** Deeper documents are refused: every later step (merge, resolve, diff) recurses. */
export const MAX_DOCUMENT_DEPTH = 64;

const JSON_TYPES = new Set(["application/json"]);
const YAML_TYPES = new Set(["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"]);
const ENV_TYPES = new Set(["application/x-env", "text/x-env"]);

interface MediaType {
  type: string;
  params: Record<string, string>;
}

function parseMediaType(contentType: string): MediaType {
  const [essence = "", ...rest] = contentType.split(";");
  const params: Record<string, string> = Object.create(null);
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    params[name] = value.toLowerCase();
  }
  return { type: essence.trim().toLowerCase(), params };
}

/**
 * The format a Content-Type names. A missing or empty Content-Type means JSON.
 * Throws `UnsupportedMediaTypeError` for anything else, or for a charset other than UTF-8.
 */
export function detectFormat(contentType: string | undefined): ContentFormat {
  if (contentType === undefined || contentType.trim() === "") return "json";
  const { type, params } = parseMediaType(contentType);
  const charset = params.charset;
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new UnsupportedMediaTypeError(`charset ${charset} is not supported; send UTF-8`, {
      field: "content-type",
    });
  }
  if (JSON_TYPES.has(type) || /^application\/[^/]+\+json$/.test(type)) return "json";
  if (YAML_TYPES.has(type)) return "yaml";
  if (ENV_TYPES.has(type) || (type === "text/plain" && params.format === "dotenv")) return "env";
  throw new UnsupportedMediaTypeError(
    `content type ${JSON.stringify(type)} is not supported; use application/json, application/yaml or ` +
      "text/plain; format=dotenv",
    { field: "content-type", details: { contentType } },
  );
}

/**
 * Parses a request body into a plain JSON object.
 * - `string`, `Buffer` / `Uint8Array` (decoded as strict UTF-8, a leading BOM dropped): parsed
 *   according to `contentType`;
 * - any other value is taken as already parsed (e.g. by fastify's JSON parser) and only checked.
 * JSON: `JSON.parse` (duplicate keys: the last wins, as everywhere in JSON land).
 * YAML: YAML 1.2 core schema (timestamps stay strings, `yes` stays a string), duplicate keys
 * refused, only the JSON tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`,
 * `!!seq`) allowed, `<<` merge keys honoured, alias expansion capped, one document only; an
 * empty document (or only comments, or `null`) is `{}`.
 * .env: `dotenv.parse`; every value is a string and keys stay flat (`A__B` is the key `A__B`);
 * lines dotenv cannot read are skipped, as dotenv does.
 */
export function parseContent(body: unknown, contentType: string | undefined): JsonObject {
  const format = detectFormat(contentType);
  let value: unknown;
  if (typeof body === "string" || body instanceof Uint8Array) {
    const text = decodeBody(body);
    if (format === "json") value = parseJsonText(text);
    else if (format === "yaml") value = parseYamlText(text);
    else value = parseEnvText(text);
  } else if (body === undefined) {
    throw new BadRequestError("malformed_body", "the request body is empty");
  } else {
    value = body;
  }
  return assertJsonObject(value);
}

/** Strings as they are; bytes as strict UTF-8 (kit `decodeUtf8`: refused, never repaired). */
function decodeBody(body: string | Uint8Array): string {
  if (typeof body !== "string") return decodeUtf8(body);
  return body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
}

/** The document must be a plain object of JSON values, not nested too deep. */
export function assertJsonObject(value: unknown): JsonObject {
  if (!isPlainObject(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new BadRequestError("content_not_object", `the document must be a JSON object, not ${kind}`);
  }
  // The kit's rules for every body: no NUL or lone surrogate, no reserved key, bounded depth.
  assertCleanValue(value, MAX_DOCUMENT_DEPTH);
  assertJsonValue(value, "", 0);
  return value;
}

function assertJsonValue(value: unknown, pointer: string, depth: number): void {
  if (depth > MAX_DOCUMENT_DEPTH) {
    throw new BadRequestError(
      "content_too_deep",
      `the document nests deeper than ${MAX_DOCUMENT_DEPTH} levels at ${pointer}`,
      { field: pointer },
    );
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return;
    throw notJson(pointer, `the number ${String(value)}`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertJsonValue(value[i], `${pointer}/${i}`, depth + 1);
    return;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      assertJsonValue(value[key], `${pointer}/${escapePointerToken(key)}`, depth + 1);
    }
    return;
  }
  const what =
    value instanceof Date
      ? "a date"
      : value instanceof Uint8Array
        ? "binary data"
        : typeof value === "object"
          ? `a ${value.constructor?.name ?? "non-plain object"}`
          : `a ${typeof value}`;
  throw notJson(pointer, what);
}

function notJson(pointer: string, what: string): BadRequestError {
  return new BadRequestError(
    "content_not_json",
    `the value at ${pointer === "" ? "the root" : pointer} is ${what}, which JSON cannot represent`,
    { field: pointer },
  );
}

// ---------------------------------------------------------------------------------------------
// JSON

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const reason = withoutExcerpt(e instanceof Error ? e.message : String(e));
    const offset = locateJsonError(text);
    if (offset < 0) throw new BadRequestError("malformed_body", `malformed JSON: ${reason}`);
    const { line, column } = lineColumn(text, offset);
    throw new BadRequestError(
      "malformed_body",
      `malformed JSON at line ${line}, column ${column}: ${reason}`,
      {
        details: { format: "json", line, column, offset },
      },
    );
  }
}

/**
 * V8's message without the piece of the body it quotes (`Unexpected token 's', ..."assword": s3"...
 * is not valid JSON`): a body may hold secrets, and line and column say where the problem is.
 */
export function withoutExcerpt(reason: string): string {
  return reason
    .replace(/,? (?:\.\.\.)?".*$/s, "")
    .replace(/^Unexpected token '.*?'/s, "Unexpected character");
}

/** 1-based line and column (in UTF-16 code units) of a string offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The offset of the first JSON syntax error in `text`, or -1 if it is valid. Only called once
 * `JSON.parse` has failed, because V8 does not report a position for every error. Iterative, so
 * deep nesting cannot overflow the stack.
 */
export function locateJsonError(text: string): number {
  const n = text.length;
  const stack: string[] = [];
  let i = 0;
  let state: "value" | "key" | "after" = "value";
  const skipWs = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  /** Scans a string starting at the quote at `i`; returns the error offset or -1. */
  const scanString = (): number => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return -1;
      }
      if (c < 0x20) return i;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return i;
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return i;
        i += 2;
        continue;
      }
      i++;
    }
    return n;
  };
  for (;;) {
    skipWs();
    if (state === "value") {
      if (i >= n) return n;
      const c = text[i];
      if (c === "{" || c === "[") {
        i++;
        skipWs();
        if (text[i] === (c === "{" ? "}" : "]")) {
          i++;
          state = "after";
        } else {
          stack.push(c);
          state = c === "{" ? "key" : "value";
        }
        continue;
      }
      if (c === '"') {
        const err = scanString();
        if (err >= 0) return err;
        state = "after";
        continue;
      }
      JSON_NUMBER.lastIndex = i;
      const num = JSON_NUMBER.exec(text);
      if (num) {
        i += num[0].length;
        state = "after";
        continue;
      }
      const literal = ["true", "false", "null"].find((l) => text.startsWith(l, i));
      if (literal) {
        i += literal.length;
        state = "after";
        continue;
      }
      return i;
    }
    if (state === "key") {
      if (i >= n) return n;
      if (text[i] !== '"') return i;
      const err = scanString();
      if (err >= 0) return err;
      skipWs();
      if (text[i] !== ":") return Math.min(i, n);
      i++;
      state = "value";
      continue;
    }
    // after a value
    const top = stack.at(-1);
    if (top === undefined) return i >= n ? -1 : i;
    if (i >= n) return n;
    const c = text[i];
    if (c === ",") {
      i++;
      state = top === "{" ? "key" : "value";
      continue;
    }
    if ((top === "{" && c === "}") || (top === "[" && c === "]")) {
      i++;
      stack.pop();
      continue;
    }
    return i;
  }
}

// ---------------------------------------------------------------------------------------------
// .env

function parseEnvText(text: string): JsonObject {
  // dotenv assigns keys onto a plain object, where `__proto__=…` vanishes: look at the lines.
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const key = /^\s*(?:export\s+)?([^\s=#]+)\s*=/.exec(lines[i]!)?.[1];
    if (key !== undefined && RESERVED_KEYS.has(key)) {
      const err = reservedKey(`line ${i + 1}`, key);
      throw new BadRequestError(err.code, err.message, { details: { format: "env", line: i + 1 } });
    }
  }
  const parsed = parseDotenv(text);
  const out: JsonObject = {};
  for (const key of Object.keys(parsed)) setOwn(out, key, parsed[key]);
  return out;
}

export { serializeContent } from "./content-output-fns.js";
