/**
 * "N lines written so far" on stderr while a long stream runs: nothing for a short one, then
 * one update a second (rewritten in place on a terminal, a new line every few seconds otherwise).
 */
import type { Writer } from "./output.js";

export interface ProgressOptions {
  /** Say nothing until the stream has run this long. */
  quietForMs?: number;
  /** Between updates; default 1 s on a terminal, 5 s otherwise. */
  everyMs?: number;
  now?: () => number;
}

export class LineProgress {
  #lines = 0;
  #shown = false;
  #nextAt: number;
  readonly #stderr: Writer;
  readonly #everyMs: number;
  readonly #now: () => number;
  readonly #tty: boolean;

  constructor(stderr: Writer, options: ProgressOptions = {}) {
    this.#stderr = stderr;
    this.#tty = stderr.isTTY === true;
    this.#now = options.now ?? Date.now;
    this.#everyMs = options.everyMs ?? (this.#tty ? 1000 : 5000);
    this.#nextAt = this.#now() + (options.quietForMs ?? 1000);
  }

  get lines(): number {
    return this.#lines;
  }

  /** Counts the newlines in a chunk just written; reports when an update is due. */
  add(chunk: Uint8Array): void {
    this.#lines += countNewlines(chunk);
    const now = this.#now();
    if (now < this.#nextAt) return;
    this.#nextAt = now + this.#everyMs;
    this.#shown = true;
    const text = `${this.#lines.toLocaleString("en-US")} lines written so far`;
    this.#stderr.write(this.#tty ? `\r\x1b[K${text}` : `${text}\n`);
  }

  /** Clears an in-place update, so the final message starts on a clean line. */
  finish(): void {
    if (this.#shown && this.#tty) this.#stderr.write("\r\x1b[K");
  }
}

export function countNewlines(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}
