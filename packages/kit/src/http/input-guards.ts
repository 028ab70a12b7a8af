import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyServerOptions } from "fastify";
import { BadRequestError, UnsupportedMediaTypeError } from "../errors.js";

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

function badText(unsafeField: string, what: string): BadRequestError {
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

/** Register the JSON parser and the query / path guard on an app (kit `createHttpApp`). */
export function registerInputGuards(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    try {
      // JSON is UTF-8 (RFC 8259); a body labelled otherwise would be read as something it is not.
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers["content-type"] ?? "")?.[1];
      if (charset && charset.toLowerCase() !== "utf-8" && charset.toLowerCase() !== "utf8") {
        throw new UnsupportedMediaTypeError(
          `JSON bodies are UTF-8; charset=${charset.slice(0, 40)} is not accepted`,
          {
            field: "content-type",
          },
        );
      }
      done(null, parseStrictJson(body as Buffer));
    } catch (err) {
      done(err as Error);
    }
  });
  app.addHook("preValidation", (request, _reply, done) => {
    const rawQuery = request.raw.url?.split("?", 2)[1];
    if (rawQuery?.includes("%")) {
      try {
        decodeURIComponent(rawQuery);
      } catch {
        // Percent-encoded bytes that are not UTF-8: the parser would put U+FFFD in their place.
        done(
          new BadRequestError("invalid_character", "the query string is not valid percent-encoded UTF-8", {
            field: "query",
          }),
        );
        return;
      }
    }
    for (const [where, values] of [
      ["query", request.query],
      ["path", request.params],
    ] as const) {
      if (!values || typeof values !== "object") continue;
      for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        const all = Array.isArray(value) ? value : [value];
        if (all.some((v) => typeof v === "string" && !isCleanText(v))) {
          done(badText(`${where}.${name}`, `the ${where} parameter`));
          return;
        }
      }
    }
    done();
  });
}

/**
 * Node's HTTP parser refuses some requests before fastify sees them (headers too large: 431, a
 * malformed request line: 400); answer those in the documented error shape too, with the same
 * headers as every other answer.
 */
export const clientErrorHandler =
  (securityHeaders: Record<string, string>): NonNullable<FastifyServerOptions["clientErrorHandler"]> =>
  (err, socket) => {
    const code = (err as { code?: string }).code;
    const [status, errorCode, message] =
      code === "HPE_HEADER_OVERFLOW"
        ? [431, "headers_too_large", "The request's headers are larger than the server accepts"]
        : code === "HPE_URI_TOO_LONG" || code === "HPE_REQUEST_URI_TOO_LONG"
          ? [414, "uri_too_long", "The request's URL is longer than the server accepts"]
          : [400, "malformed_request", "The request is not valid HTTP"];
    if (!socket.writable) return socket.destroy();
    const requestId = randomUUID();
    const body = JSON.stringify({ error: { code: errorCode, message, requestId } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : status === 414 ? "URI Too Long" : "Bad Request"}\r\n` +
        "content-type: application/json; charset=utf-8\r\n" +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        Object.entries(securityHeaders)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join("") +
        `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n` +
        body,
    );
  };

/**
 * Requests the router refuses before any hook runs (a URL that does not decode, a path parameter
 * longer than fastify's `maxParamLength`): the documented error shape and the usual headers.
 */
export function frameworkErrorHandler(securityHeaders: Record<string, string>) {
  const handler: NonNullable<FastifyServerOptions["frameworkErrors"]> = (err, request, reply) => {
    const tooLong = (err as { code?: string }).code === "FST_ERR_MAX_PARAM_LENGTH";
    (reply as unknown as FastifyReply)
      .headers(securityHeaders)
      .header("x-request-id", request.id)
      .status(tooLong ? 414 : 400)
      .send({
        error: {
          code: tooLong ? "uri_too_long" : "malformed_url",
          message: tooLong
            ? "A path segment of the URL is longer than the server accepts"
            : "The URL cannot be decoded (percent-encoding that is not UTF-8)",
          field: "path",
          requestId: request.id,
        },
      });
  };
  return handler;
}
