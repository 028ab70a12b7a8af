/** Argument and option parsers shared by the commands; a bad value is a usage error (exit 2). */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Argument, InvalidArgumentError } from "commander";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { DOCUMENT_FORMATS, type DocumentFormat, parseFormat } from "../output/format-fns.js";
import type { Io } from "../output/output.js";

/**
 * Namespace and environment names: `NAME_PATTERN` of @nexus/contracts, copied because loading the
 * contracts loads zod, a third of a second of start-up on every command. A unit test keeps the
 * two equal.
 */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const NAME_RULE = "1-63 lowercase letters, digits or '-', starting and ending with a letter or digit";

export function parseName(value: string): string {
  if (!NAME_PATTERN.test(value)) throw new InvalidArgumentError(`Names are ${NAME_RULE}.`);
  return value;
}

export function parseRevision(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > 2_147_483_647) {
    throw new InvalidArgumentError("A revision is a whole number from 1.");
  }
  return Number(value);
}

/** Like a revision, but 0 (the empty document) is allowed: `diff` takes it. */
export function parseRevisionOrZero(value: string): number {
  return value === "0" ? 0 : parseRevision(value);
}

export function positiveInt(max: number) {
  return (value: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new InvalidArgumentError(`Expected a whole number from 1 to ${max}.`);
    }
    return Number(value);
  };
}

/** Seconds, decimals allowed (`0.5`), within bounds. */
export function seconds(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected seconds from ${min} to ${max}.`);
    }
    return n;
  };
}

/** `--format` parser: a bad value is reported by commander like any other bad option value. */
export function formatOption(allowed: readonly DocumentFormat[] = DOCUMENT_FORMATS) {
  return (value: string): DocumentFormat => {
    try {
      return parseFormat(value, allowed);
    } catch {
      throw new InvalidArgumentError(`Use one of: ${allowed.join(", ")}.`);
    }
  };
}

/** Repeatable option: each use appends. */
export const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export const nsArgument = () => new Argument("<ns>", "namespace").argParser(parseName);
export const envArgument = () => new Argument("<env>", "environment").argParser(parseName);
export const layerArgument = () =>
  new Argument("<layer>", '"base" or an environment name').argParser(parseName);

/**
 * A file's text, or stdin's for `-`. A file that cannot be read is a usage error (exit 2).
 */
export async function readInput(path: string, io: Io): Promise<string> {
  if (path === "-") {
    if (io.stdin.isTTY) {
      throw usageError("-f - reads the document from stdin, but stdin is a terminal; pipe a file in");
    }
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    return decodeUtf8(Buffer.concat(chunks), "stdin");
  }
  let data: Buffer;
  try {
    data = await readFile(resolve(io.cwd, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "it is a directory"
            : (code ?? (err as Error).message);
    throw usageError(`cannot read ${path}: ${why}`, "file");
  }
  return decodeUtf8(data, path);
}

function decodeUtf8(data: Buffer, source: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    throw new CliError(`${source} is not UTF-8 text`, {
      exitCode: ExitCode.validation,
      code: "invalid_document",
      field: "file",
    });
  }
}
