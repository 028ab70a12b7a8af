/**
 * Documents in and out: which format a file is, its media type, rendering a JSON document as
 * JSON / YAML / .env (the same rules as the registry's own rendering), and reading YAML back
 * from an editor. No I/O.
 */
import { parse as parseDotenv } from "dotenv";
import { Document, isScalar, parseDocument, Scalar, visit } from "yaml";
import { CliError, ExitCode, localValidationError, usageError } from "../exit-codes.js";

export type DocumentFormat = "json" | "yaml" | "env";
export const DOCUMENT_FORMATS: readonly DocumentFormat[] = ["json", "yaml", "env"];

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseFormat(
  value: string,
  allowed: readonly DocumentFormat[] = DOCUMENT_FORMATS,
): DocumentFormat {
  const v = value.toLowerCase();
  const format = v === "yml" ? "yaml" : v === "dotenv" ? "env" : v;
  if (!(allowed as readonly string[]).includes(format)) {
    throw usageError(`unknown format ${JSON.stringify(value)}; use ${allowed.join(", ")}`, "format");
  }
  return format as DocumentFormat;
}

const MEDIA_TYPES: Record<DocumentFormat, string> = {
  json: "application/json",
  yaml: "application/yaml",
  env: "application/x-env",
};

export const mediaTypeOf = (format: DocumentFormat) => MEDIA_TYPES[format];

const ENV_LINE = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/;

/**
 * The format of an input file: `--format` if given, else the file extension (`.json`, `.yaml` /
 * `.yml`, `.env` or a name starting with `.env`), else the content: `{` first is JSON, every
 * line `KEY=value` (or a comment) is .env, anything else YAML.
 */
export function detectInputFormat(path: string, text: string, explicit?: DocumentFormat): DocumentFormat {
  if (explicit) return explicit;
  const name = path.split(/[\\/]/).pop()?.toLowerCase() ?? "";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
  if (name.endsWith(".env") || name.startsWith(".env")) return "env";
  const trimmed = text.replace(/^\uFEFF/, "").trimStart();
  if (trimmed.startsWith("{")) return "json";
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  if (lines.length > 0 && lines.every((l) => ENV_LINE.test(l))) return "env";
  return "yaml";
}

/** Renders a document the way the registry does (`serializeContent`). */
export function renderDocument(doc: JsonObject, format: DocumentFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(doc, null, 2)}\n`;
    case "yaml":
      return renderYaml(doc);
    case "env":
      return renderEnv(doc);
  }
}

/**
 * Block YAML without anchors, lines never folded; strings a YAML 1.1 reader would take for
 * something else (`"yes"`, `"2024-01-01"`) are quoted, and `<<` keys too.
 */
function renderYaml(doc: JsonObject): string {
  const yamlDoc = new Document(doc, {
    schema: "yaml-1.1",
    merge: false,
    customTags: (tags) => tags.filter((t) => !(typeof t === "object" && t.tag === "tag:yaml.org,2002:merge")),
    aliasDuplicateObjects: false,
  });
  visit(yamlDoc, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === "<<") pair.key.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return yamlDoc.toString({ lineWidth: 0 });
}

const SAFE_ENV_VALUE = /^[A-Za-z0-9_\-.,:/@+%=]*$/;

/**
 * One `KEY=value` line per leaf: the path joined with `_`, upper-cased, anything outside
 * `[A-Z0-9_]` turned into `_`. Strings as they are, other values JSON-encoded; quoted only when
 * needed, with whichever quote dotenv reads back exactly.
 */
function renderEnv(doc: JsonObject): string {
  const lines: string[] = [];
  const seen = new Map<string, string>();
  const expected = new Map<string, string>();
  const emit = (path: string[], value: unknown) => {
    const pointer = toPointer(path);
    const name = path
      .join("_")
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, "_");
    if (!/[A-Z0-9]/.test(name)) throw notEnv(`the key at ${pointer} has no usable .env name`, pointer);
    const previous = seen.get(name);
    if (previous !== undefined) throw notEnv(`${previous} and ${pointer} both become ${name}`, pointer);
    seen.set(name, pointer);
    const text = typeof value === "string" ? value : JSON.stringify(value);
    expected.set(name, text);
    lines.push(`${name}=${quoteEnvValue(text, pointer)}`);
  };
  const walk = (obj: JsonObject, path: string[]) => {
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      if (isPlainObject(value) && Object.keys(value).length > 0) walk(value, [...path, key]);
      else emit([...path, key], value);
    }
  };
  walk(doc, []);
  const text = lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  // Belt and braces: the whole text must read back as exactly these values.
  const back = parseDotenv(text);
  for (const [name, pointer] of seen) {
    if (back[name] !== expected.get(name)) {
      throw notEnv(`the value at ${pointer} does not read back the same from .env`, pointer);
    }
  }
  return text;
}

/**
 * Lines after a value, one per quote style: a quoted value whose closing quote dotenv takes for
 * an escaped one (a value ending in `\`) runs on into the next line with the same quote.
 */
const ENV_PROBE = "\nP1='p'\nP2=\"p\"\nP3=`p`";

function quoteEnvValue(value: string, pointer: string): string {
  const candidates: string[] = [];
  if (SAFE_ENV_VALUE.test(value)) candidates.push(value);
  candidates.push(`'${value}'`, `\`${value}\``, `"${value.replaceAll("\n", "\\n")}"`);
  for (const candidate of candidates) {
    const back = parseDotenv(`K=${candidate}${ENV_PROBE}`);
    if (back.K === value && back.P1 === "p" && back.P2 === "p" && back.P3 === "p") return candidate;
  }
  throw notEnv(`the value at ${pointer} cannot be written as a .env value that reads back the same`, pointer);
}

const notEnv = (message: string, pointer: string) =>
  new CliError(`this configuration cannot be shown as .env: ${message}; use --format yaml or json`, {
    exitCode: ExitCode.error,
    code: "env_unrepresentable",
    field: pointer,
  });

export function toPointer(path: readonly string[]): string {
  return path.map((p) => `/${p.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

export type YamlReadResult = { empty: true } | { empty: false; value: JsonObject };

/**
 * Reads a YAML document written by a person (YAML 1.2 core schema, duplicate keys refused).
 * A document with nothing but comments is `empty`. Anything that does not parse, or is not a
 * mapping, is a validation error (exit 4) naming the line and column.
 */
export function readYamlDocument(text: string, source: string): YamlReadResult {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, merge: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    const reason = (first.message.split("\n")[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, "");
    throw localValidationError(`${source} is not valid YAML${where}: ${reason}`, undefined, {
      line: pos?.line,
      column: pos?.col,
    });
  }
  if (doc.contents === null) return { empty: true };
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  if (!isPlainObject(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "a list" : `a ${typeof value}`;
    throw localValidationError(`${source} must hold a mapping (key: value lines), not ${kind}`);
  }
  return { empty: false, value };
}

/** Key-order-insensitive equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ak = Object.keys(a);
    if (ak.length !== Object.keys(b).length) return false;
    return ak.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}
