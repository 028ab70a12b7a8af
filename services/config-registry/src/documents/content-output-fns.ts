/** Rendering a stored JSON document as JSON, YAML or .env (for `?format=` reads and the CLI). */
import { BadRequestError } from "@nexus/kit";
import { parse as parseDotenv } from "dotenv";
import { Document, isScalar, Scalar, visit } from "yaml";
import type { ContentFormat } from "./content-fns.js";
import { escapePointerToken, isPlainObject, type JsonObject } from "./document-fns.js";

// ---------------------------------------------------------------------------------------------
// Output

/**
 * Renders a document:
 * - `json`: 2-space indented JSON and a final newline;
 * - `yaml`: block-style YAML without anchors, lines never folded; strings are quoted wherever a
 *   YAML 1.1 reader would take them for something else (`"yes"`, `"2024-01-01"`), so old
 *   parsers read the same values;
 * - `env`: one `KEY=value` line per leaf. Nested keys are flattened by joining the path with `_`,
 *   upper-casing and turning every character outside `[A-Z0-9_]` into `_`
 *   (`{db: {max-conns: 5}}` → `DB_MAX_CONNS=5`). Strings are written as they are, everything
 *   else (numbers, booleans, null, arrays, empty objects) JSON-encoded. A value is left bare when
 *   it is made of safe characters, otherwise quoted with `'`, `` ` `` or `"`, whichever
 *   `dotenv.parse` reads back exactly. Two paths flattening to the same name
 *   (`env_key_collision`), a path flattening to an empty name (`env_key_invalid`) or a value no
 *   quoting carries (`env_value_unrepresentable`) are a `BadRequestError`.
 */
export function serializeContent(doc: JsonObject, format: ContentFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(doc, null, 2)}\n`;
    case "yaml":
      return serializeYaml(doc);
    case "env":
      return serializeEnv(doc);
  }
}

/**
 * The YAML 1.1 schema makes the stringifier quote every string a YAML 1.1 reader would take for
 * something else; without its merge tag, and with `<<` keys forced into quotes, so a key named
 * `<<` is not read back as a merge key.
 */
const CORE_OCTAL = /^0o[0-7]+$/;

function serializeYaml(doc: JsonObject): string {
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
    // YAML 1.2's octal form (`0o17`) is no number to YAML 1.1, so its stringifier leaves such a
    // string bare, and the 1.2 core reader of request bodies would read it back as a number.
    Scalar(_key, node) {
      if (typeof node.value === "string" && CORE_OCTAL.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return yamlDoc.toString({ lineWidth: 0 });
}

const SAFE_ENV_VALUE = /^[A-Za-z0-9_\-.,:/@+%=]*$/;

function serializeEnv(doc: JsonObject): string {
  const lines: string[] = [];
  const seen = new Map<string, string>();
  const written = new Map<string, { pointer: string; text: string }>();
  const emit = (path: string[], value: unknown) => {
    const pointer = path.map((p) => `/${escapePointerToken(p)}`).join("");
    const name = path
      .join("_")
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, "_");
    if (!/[A-Z0-9]/.test(name)) {
      throw new BadRequestError("env_key_invalid", `the key at ${pointer} has no usable .env name`, {
        field: pointer,
      });
    }
    const previous = seen.get(name);
    if (previous !== undefined) {
      throw new BadRequestError(
        "env_key_collision",
        `${previous} and ${pointer} both flatten to the .env name ${name}`,
        { field: pointer, details: { name, pointers: [previous, pointer] } },
      );
    }
    seen.set(name, pointer);
    const text = typeof value === "string" ? value : JSON.stringify(value);
    written.set(name, { pointer, text });
    lines.push(`${name}=${quoteEnvValue(text, pointer)}`);
  };
  const walk = (obj: JsonObject, path: string[]) => {
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      const childPath = [...path, key];
      if (isPlainObject(value) && Object.keys(value).length > 0) walk(value, childPath);
      else emit(childPath, value);
    }
  };
  walk(doc, []);
  if (lines.length === 0) return "";
  const text = `${lines.join("\n")}\n`;
  // The whole file must read back as written, whatever the neighbours of each line.
  const readBack = parseDotenv(text);
  for (const [name, { pointer, text: wanted }] of written) {
    if (readBack[name] !== wanted) {
      throw new BadRequestError(
        "env_value_unrepresentable",
        `the value at ${pointer} cannot be written as a .env value that reads back the same`,
        { field: pointer },
      );
    }
  }
  return text;
}

function quoteEnvValue(value: string, pointer: string): string {
  const candidates: string[] = [];
  if (SAFE_ENV_VALUE.test(value)) candidates.push(value);
  candidates.push(`'${value}'`, `\`${value}\``, `"${value.replaceAll("\n", "\\n")}"`);
  // Unquoted takes backslashes literally, which every quoting reads as an escape of the quote.
  if (!SAFE_ENV_VALUE.test(value)) candidates.push(value);
  for (const candidate of candidates) {
    // Checked with lines after it that hold every kind of quote before a `#`: a quoted value
    // ending in a backslash reads back alone, but in a file it can run on to the next line's
    // quote, the rest of that line then read as a comment.
    const read = parseDotenv(`K=${candidate}\nQ1='#'\nQ2="#"\nQ3=\`#\`\n`);
    if (read.K === value && read.Q1 === "#" && read.Q2 === "#" && read.Q3 === "#") return candidate;
  }
  throw new BadRequestError(
    "env_value_unrepresentable",
    `the value at ${pointer} cannot be written as a .env value that reads back the same`,
    { field: pointer },
  );
}
