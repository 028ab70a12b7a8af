import { randomUUID } from "node:crypto";
import { type IncomingMessage, maxHeaderSize } from "node:http";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { toErrorResponse } from "./error-handler.js";

/** APIs serve JSON only; these close the browser-side holes helmet would (CSP stays off for /docs). */
export const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "x-dns-prefetch-control": "off",
  "x-permitted-cross-domain-policies": "none",
} as const;

/**
 * How much of a body the server reads and throws away after it has answered without reading
 * it all (413, or a refusal before the body was read). A client still uploading then reads the
 * answer instead of a reset connection (EPIPE / ECONNRESET). nginx's lingering close does the
 * same: at most 30 s in all, at most 5 s without data. Beyond any bound the connection is cut.
 */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
export const DISCARD_MAX_MS = 30_000;
export const DISCARD_IDLE_MS = 5_000;

/** Connections still discarding a body: cut when the server closes, so shutdown never waits on them. */
export type LingeringSockets = Set<Socket>;

/** Read the rest of an answered request's body into nothing, within the bounds above. */
export function discardUnreadBody(req: IncomingMessage, lingering: LingeringSockets): void {
  const socket = req.socket;
  // Injected requests (light-my-request) have no socket to keep reading from.
  if (!(socket instanceof Socket)) return;
  let discarded = 0;
  const startedAt = Date.now();
  const cut = () => {
    stop();
    socket.destroy();
  };
  const count = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) cut();
    else idle.refresh();
  };
  const idle = setTimeout(cut, DISCARD_IDLE_MS);
  const total = setTimeout(cut, DISCARD_MAX_MS - (Date.now() - startedAt));
  idle.unref();
  total.unref();
  lingering.add(socket);
  function stop() {
    clearTimeout(idle);
    clearTimeout(total);
    lingering.delete(socket);
    req.off("data", count);
    req.off("end", stop);
    req.off("close", stop);
  }
  req.on("data", count);
  req.once("end", stop);
  req.once("close", stop);
  req.resume();
}

/**
 * Fastify's `frameworkErrors`: answers given before routing (a URL that does not decode, a path
 * parameter longer than allowed) in the taxonomy's shape, with the headers every answer has.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { status, body } = toErrorResponse(error, request.id);
  reply.headers(SECURITY_HEADERS).header("x-request-id", request.id).status(status).send(body);
}

const CLIENT_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: "request_timeout",
    message: "The request was not received in time.",
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: "headers_too_large",
    message: `The request's headers (URL included) are larger than allowed: at most ${Math.floor(maxHeaderSize / 1024)} KiB.`,
  },
};
const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses never reaches a route or a
 * hook, so it is answered here, on the socket, in the same shape and with the same headers.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const known = (err.code && CLIENT_ERRORS[err.code]) || {
    status: 400,
    code: "malformed_request",
    message: "The request is not valid HTTP.",
  };
  const requestId = randomUUID();
  const body = JSON.stringify({ error: { code: known.code, message: known.message, requestId } });
  const headers = {
    ...SECURITY_HEADERS,
    "x-request-id": requestId,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${known.status} ${REASONS[known.status]}\r\n${head}\r\n${body}`);
  }
  // As in discardUnreadBody: give the client a moment to read the answer before the reset.
  setTimeout(() => socket.destroy(), 1_000).unref();
}
