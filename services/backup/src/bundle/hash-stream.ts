import { createHash } from "node:crypto";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * A pass-through that hashes (sha256) and counts what flows by. With `countRows`, it counts
 * newlines: COPY text ends every row with one and escapes those inside values.
 */
export function createDigestStream(options: { countRows?: boolean } = {}) {
  const hash = createHash("sha256");
  let bytes = 0;
  let rows = 0;
  let digest: string | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      if (options.countRows) {
        let i = chunk.indexOf(10);
        while (i !== -1) {
          rows++;
          i = chunk.indexOf(10, i + 1);
        }
      }
      callback(null, chunk);
    },
  });
  return {
    stream,
    result() {
      digest ??= hash.digest("hex");
      return { sha256: digest, bytes, rows };
    },
  };
}

/** `pipeline` over a list built at run time (its typings only take fixed arities). */
export function pipeAll(streams: (NodeJS.ReadableStream | NodeJS.WritableStream)[]): Promise<void> {
  return (pipeline as unknown as (s: unknown[]) => Promise<void>)(streams);
}

/** Read a stream to its end, dropping the bytes (the stages before it hash and count). */
export const drain = () =>
  new Writable({
    write(_chunk, _enc, callback) {
      callback();
    },
  });
