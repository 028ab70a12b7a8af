/**
 * YAML request bodies into plain JSON values: YAML 1.2 core schema, duplicate keys refused, only
 * the JSON tags, `<<` merge keys honoured, alias expansion capped, one document only; pairs
 * without a key, the reserved keys and integers that cannot be stored exactly are refused with
 * their line. No I/O.
 */
import { BadRequestError, RESERVED_KEYS, reservedKey } from "@nexus/kit";
import { type Document, isNode, isScalar, LineCounter, parseDocument, visit } from "yaml";

/**
 * How many alias expansions a YAML document may make (the `yaml` package's `maxAliasCount`:
 * roughly aliases used × their nesting). Enough for shared blocks (`<<: *defaults`), far too
 * little for a "billion laughs" expansion.
 */
export const YAML_MAX_ALIAS_COUNT = 50;

// ---------------------------------------------------------------------------------------------
// YAML

const ALLOWED_YAML_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq", "merge"].map((t) => `tag:yaml.org,2002:${t}`),
);

function yamlError(message: string, lineCounter: LineCounter, offset: number | undefined): BadRequestError {
  if (offset === undefined) return new BadRequestError("malformed_body", `malformed YAML: ${message}`);
  const { line, col: column } = lineCounter.linePos(offset);
  return new BadRequestError(
    "malformed_body",
    `malformed YAML at line ${line}, column ${column}: ${message}`,
    {
      details: { format: "yaml", line, column, offset },
    },
  );
}

/** An integer written in YAML is the number JSON will store (a 97-bit one would be rounded). */
function isExactNumber(value: unknown, source: string | undefined): boolean {
  if (typeof value !== "number" || !Number.isInteger(value) || Number.isSafeInteger(value)) return true;
  const written = (source ?? "").trim();
  const match = /^([-+]?)(0x[0-9a-f]+|0o[0-7]+|[0-9]+)$/i.exec(written);
  if (!match) return true; // a float (`1e30`): stored as the float it is
  const digits = match[2]!.toLowerCase();
  if (/^[0-9]+$/.test(digits)) {
    // Read back, the stored number prints as these digits (it is the shortest form of itself).
    return `${match[1] === "-" ? "-" : ""}${digits.replace(/^0+(?=\d)/, "")}` === String(value);
  }
  const magnitude = BigInt(digits);
  return (match[1] === "-" ? -magnitude : magnitude) === BigInt(value);
}

export function parseYamlText(text: string): unknown {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, {
    version: "1.2",
    schema: "core",
    uniqueKeys: true,
    merge: true,
    strict: true,
    prettyErrors: false,
    lineCounter,
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    throw yamlError(problem.message.split("\n")[0] ?? problem.message, lineCounter, problem.pos[0]);
  }
  visit(doc, {
    Node(_key, node) {
      if (node.tag !== undefined && !ALLOWED_YAML_TAGS.has(node.tag)) {
        throw yamlError(`the tag ${node.tag} is not allowed (only JSON types)`, lineCounter, node.range?.[0]);
      }
      if (isScalar(node) && !isExactNumber(node.value, node.source)) {
        throw yamlError(
          `the integer ${node.source} cannot be stored exactly (beyond ±${Number.MAX_SAFE_INTEGER}); quote it to keep it as a string`,
          lineCounter,
          node.range?.[0],
        );
      }
    },
    Pair(_key, pair) {
      if (pair.key === null || (isScalar(pair.key) && pair.key.value === null && pair.key.source === "")) {
        // `: value` is a pair with no key; turned into JSON it would be the key "".
        const range = isNode(pair.value) ? pair.value.range : undefined;
        throw yamlError("a mapping entry has no key", lineCounter, range?.[0]);
      }
      if (!isScalar(pair.key)) {
        const range = isNode(pair.key) ? pair.key.range : undefined;
        throw yamlError("mapping keys must be plain scalars", lineCounter, range?.[0]);
      }
      if (RESERVED_KEYS.has(String(pair.key.value))) {
        const { line } = lineCounter.linePos(pair.key.range?.[0] ?? 0);
        const err = reservedKey(`line ${line}`, String(pair.key.value));
        throw new BadRequestError(err.code, err.message, { details: { format: "yaml", line } });
      }
    },
  });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new BadRequestError("malformed_body", `malformed YAML: ${reason}`, { details: { format: "yaml" } });
  }
  return value === null || value === undefined ? {} : value;
}
