/**
 * JSON Schema checks for namespace documents (Ajv + ajv-formats). Pure: remote `$ref`s are
 * never fetched, so a schema that needs one is invalid.
 *
 * Drafts: 2020-12 (also when `$schema` is absent), 2019-09 and draft-07 (`draft-06` is read as
 * draft-07). Anything else in `$schema` is `schema_invalid`.
 * Ajv runs with `allErrors` (every failing path is reported) and `strict: false`: unknown
 * keywords (`x-...` annotations, `description`-like extras) are ignored as the specification says,
 * and unknown formats are not checked. Documents are never changed (no defaults, no coercion).
 *
 * Violations are `{ pointer, message, keyword }`. `pointer` is an RFC 6901 JSON pointer into the
 * document, `""` for the document itself; for `required` / `dependentRequired` it names the
 * missing property (`/db/host`, not `/db`), for `additionalProperties` / `unevaluatedProperties`
 * the unexpected property, for `propertyNames` the offending key.
 */
import { createHash } from "node:crypto";
import { ValidationError } from "@nexus/kit";
import type { AnySchema, ErrorObject, ValidateFunction } from "ajv";
import { Ajv } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { canonicalJson, escapePointerToken } from "./document-fns.js";

export interface SchemaViolation {
  /** JSON pointer into the document; `""` is the document itself. */
  pointer: string;
  message: string;
  keyword: string;
}

export type DocumentValidator = (doc: unknown) => SchemaViolation[];

type Draft = "2020-12" | "2019-09" | "draft-07";

const DRAFTS: Record<string, Draft> = {
  "https://json-schema.org/draft/2020-12/schema": "2020-12",
  "https://json-schema.org/draft/2019-09/schema": "2019-09",
  "http://json-schema.org/draft-07/schema": "draft-07",
  "http://json-schema.org/draft-06/schema": "draft-07",
};

/** ajv-formats is CommonJS; under NodeNext its default export is reached through `.default`. */
const addFormats = addFormatsModule.default;

/** Compiled validators by hash of the schema's canonical JSON; oldest dropped past the limit. */
const CACHE_LIMIT = 200;
const cache = new Map<string, DocumentValidator>();

function draftOf(schema: unknown): Draft {
  if (typeof schema !== "object" || schema === null || !Object.hasOwn(schema, "$schema")) return "2020-12";
  const declared = (schema as { $schema: unknown }).$schema;
  const key = typeof declared === "string" ? declared.replace(/#$/, "") : undefined;
  const draft = key === undefined ? undefined : DRAFTS[key];
  if (draft === undefined) {
    throw new ValidationError("schema_invalid", `unsupported $schema ${JSON.stringify(declared)}`, {
      field: "/$schema",
      details: {
        errors: [
          {
            pointer: "/$schema",
            message: "must be a 2020-12, 2019-09 or draft-07 meta-schema",
            keyword: "$schema",
          },
        ],
      },
    });
  }
  return draft;
}

/** A fresh Ajv per compile: no shared `$id` registry between namespaces, nothing kept alive. */
function newAjv(draft: Draft) {
  const options = { allErrors: true, strict: false, logger: false as const, validateFormats: true };
  const ajv =
    draft === "2020-12"
      ? new Ajv2020(options)
      : draft === "2019-09"
        ? new Ajv2019(options)
        : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/** Pointer of the instance a violation is about. */
function violationPointer(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const child =
    error.keyword === "required" || error.keyword === "dependentRequired" || error.keyword === "dependencies"
      ? params.missingProperty
      : error.keyword === "additionalProperties"
        ? params.additionalProperty
        : error.keyword === "unevaluatedProperties"
          ? params.unevaluatedProperty
          : error.keyword === "propertyNames"
            ? params.propertyName
            : undefined;
  return typeof child === "string"
    ? `${error.instancePath}/${escapePointerToken(child)}`
    : error.instancePath;
}

function toViolations(errors: ErrorObject[] | null | undefined): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    const violation = {
      pointer: violationPointer(error),
      message: error.message ?? `fails ${error.keyword}`,
      keyword: error.keyword,
    };
    const key = `${violation.pointer}\u0000${violation.keyword}\u0000${violation.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(violation);
  }
  return out;
}

function invalidSchema(message: string, errors: SchemaViolation[], cause?: unknown): ValidationError {
  return new ValidationError("schema_invalid", message, {
    field: errors[0]?.pointer,
    details: { errors },
    cause,
  });
}

/**
 * Checks that `schema` is a JSON Schema Ajv can compile and returns its validator. Throws
 * `ValidationError("schema_invalid")` otherwise, with `details.errors` = violations of the
 * meta-schema (their pointers point into the schema) or the compile error.
 * Validators are cached by the schema's content hash.
 */
export function compileSchema(schema: unknown): DocumentValidator {
  if (
    typeof schema !== "boolean" &&
    (typeof schema !== "object" || schema === null || Array.isArray(schema))
  ) {
    throw invalidSchema("a JSON Schema must be an object or a boolean", [
      { pointer: "", message: "must be object or boolean", keyword: "type" },
    ]);
  }
  let hash: string;
  try {
    hash = createHash("sha256").update(canonicalJson(schema)).digest("hex");
  } catch (e) {
    throw invalidSchema("the schema is not valid JSON", [], e);
  }
  const cached = cache.get(hash);
  if (cached) return cached;

  const ajv = newAjv(draftOf(schema));
  if (!ajv.validateSchema(schema as AnySchema)) {
    const errors = toViolations(ajv.errors);
    const first = errors[0];
    throw invalidSchema(
      `the JSON Schema is invalid${first ? ` at ${first.pointer || "the root"}: ${first.message}` : ""}`,
      errors,
    );
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as AnySchema);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw invalidSchema(
      `the JSON Schema cannot be compiled: ${message}`,
      [{ pointer: "", message, keyword: "compile" }],
      e,
    );
  }
  const validator: DocumentValidator = (doc) => (validate(doc) ? [] : toViolations(validate.errors));

  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(hash, validator);
  return validator;
}

/**
 * Validates a document against a schema; throws `ValidationError("schema_violation")` with
 * `field` = the first failing pointer and `details.violations` = every violation.
 */
export function assertMatchesSchema(schema: unknown, doc: unknown): void {
  const violations = compileSchema(schema)(doc);
  const first = violations[0];
  if (first === undefined) return;
  const more = violations.length - 1;
  throw new ValidationError(
    "schema_violation",
    `the document breaks its JSON Schema at ${first.pointer || "the root"}: ${first.message}` +
      (more > 0 ? ` (and ${more} more)` : ""),
    { field: first.pointer, details: { violations } },
  );
}
