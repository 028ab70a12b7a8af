/**
 * Where output goes and how it looks: results on stdout (human text, or JSON with `--json`),
 * errors and progress on stderr. Colours only when stdout is a terminal, NO_COLOR is unset and
 * `--no-color` was not given.
 */
import pc from "picocolors";

export type Colors = ReturnType<typeof pc.createColors>;

export interface Writer {
  /** Bytes only for streams passed through as they arrive (`audit export`). */
  write(text: string | Uint8Array): unknown;
  isTTY?: boolean | undefined;
}

/** The process seen by commands, so nothing reaches for globals directly. */
export interface Io {
  stdout: Writer;
  stderr: Writer;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean | undefined };
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
}

export function colorEnabled(io: Pick<Io, "stdout" | "env">, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== "") return false;
  if (io.env.TERM === "dumb") return false;
  return io.stdout.isTTY === true;
}

export class Output {
  readonly json: boolean;
  readonly colors: Colors;
  readonly #io: Io;

  constructor(io: Io, options: { json: boolean; color: boolean }) {
    this.#io = io;
    this.json = options.json;
    this.colors = pc.createColors(options.color);
  }

  /** A machine-readable result (pretty JSON, one document per command). */
  data(value: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One machine-readable event per line (streams such as `watch --json`). */
  event(value: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Human text on stdout; a final newline is added when missing. */
  text(value: string): void {
    if (value === "") return;
    this.#io.stdout.write(value.endsWith("\n") ? value : `${value}\n`);
  }

  /** Progress and notices on stderr, so stdout stays clean for pipes. */
  note(value: string): void {
    this.#io.stderr.write(value.endsWith("\n") ? value : `${value}\n`);
  }
}
