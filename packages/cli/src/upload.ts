/**
 * Requests with a body, over node:http(s) instead of fetch. A server that refuses a body (413,
 * or a 401 before reading it) may answer while the CLI is still uploading and then close the
 * connection; the write error that follows (EPIPE, ECONNRESET) must not hide its answer. fetch
 * queues the whole body at once, so the write error comes before the answer is read and it is
 * lost ("cannot reach the registry"). Here, as curl does for large bodies, a body over 64 KiB is
 * announced with `Expect: 100-continue` and sent once the server says so (or after a second, for
 * servers that ignore it); an answer instead (a proxy's 413) is the result. The body goes out
 * in pieces, each after the previous one left and a turn of the event loop; an answer that
 * arrives meanwhile stops the upload, and a write error after it is ignored.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export interface UploadInit {
  method: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** Statuses whose Response may not have a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** Resolves with the response as fetch would; rejects like fetch (TypeError with a `cause`) when none came. */
export function sendWithBody(url: URL, init: UploadInit): Promise<Response> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const body = Buffer.from(init.body);
    const announce = body.length > PIECE_BYTES;
    const req = send(url, {
      method: init.method,
      headers: {
        ...init.headers,
        "content-length": String(body.length),
        ...(announce ? { expect: "100-continue" } : {}),
      },
      // Its own connection: one whose upload stopped part-way cannot be reused.
      agent: false,
      signal: init.signal,
    });
    let answered = false;
    let offset = 0;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      let done = false;
      // What arrived before a reset is the answer (a cut-short body fails to parse, in words).
      const finish = () => {
        if (done) return;
        done = true;
        // An upload cut short leaves the connection unusable for anything else.
        if (offset < body.length) req.destroy();
        const status = res.statusCode ?? 0;
        resolve(
          new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), {
            status,
            statusText: res.statusMessage ?? "",
            headers: headersOf(res.headers),
          }),
        );
      };
      res.on("end", finish);
      res.on("close", finish);
      res.on("error", finish);
    });
    req.on("error", (err) => {
      if (answered) return;
      if (init.signal.aborted) reject(init.signal.reason);
      else reject(Object.assign(new TypeError("fetch failed"), { cause: err }));
    });
    const writeMore = () => {
      while (!answered && offset < body.length) {
        const piece = body.subarray(offset, offset + PIECE_BYTES);
        offset += piece.length;
        // After a drain, a turn of the event loop first: an answer already received is read
        // (and stops the upload) before the next piece can hit a closed connection.
        if (!req.write(piece)) return void req.once("drain", () => setImmediate(writeMore));
      }
      // Answered before the whole body left: the rest is not sent (finish closes the connection).
      if (!answered) req.end();
    };
    if (!announce) return writeMore();
    req.flushHeaders();
    let started = false;
    const start = () => {
      clearTimeout(patience);
      if (started || answered) return;
      started = true;
      writeMore();
    };
    const patience = setTimeout(start, CONTINUE_WAIT_MS);
    req.once("continue", start);
    req.once("response", () => clearTimeout(patience));
  });
}

/** How long to wait for `100 Continue` before sending anyway (curl waits one second). */
const CONTINUE_WAIT_MS = 1_000;

/** Small enough that an early answer is read between two pieces. */
const PIECE_BYTES = 64 * 1024;

function headersOf(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
  }
  return out;
}
