import type { IncomingMessage } from "node:http";
import { Socket } from "node:net";

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
