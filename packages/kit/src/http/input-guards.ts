import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyServerOptions } from "fastify";
import { BadRequestError, UnsupportedMediaTypeError } from "../errors.js";
import { badText, isCleanText, parseStrictJson } from "../input/clean-input.js";

/** The checks themselves are `input/clean-input.ts` (the bus applies them to every message too). */
export * from "../input/clean-input.js";

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
