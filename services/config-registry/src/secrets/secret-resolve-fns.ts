/** The forms of a resolved document that holds secrets (see secret-doc-fns.ts), without I/O. */
import { canonicalJson, hashOfCanonical, type JsonObject } from "../documents/document-fns.js";
import type { SchemaViolation } from "../documents/schema-fns.js";
import {
  comparableFormOf,
  comparableFromRedacted,
  hashFormOf,
  redactSecrets,
  secretDigestsOf,
  secretPointers,
} from "./secret-doc-fns.js";

/** What a resolution stores and serves for a document with secrets (`value` in stored form). */
export function resolvedSecretForms(value: JsonObject) {
  return {
    comparable: comparableFormOf(value),
    /** The body's content: every secret `"***"`. */
    canonical: canonicalJson(redactSecrets(value)),
    hash: hashOfCanonical(canonicalJson(hashFormOf(value))),
    secretDigests: secretDigestsOf(value),
  };
}

/** Schema violations about a secret keep their place and keyword; their message names no value. */
export function violationsOfSecrets(violations: SchemaViolation[], value: JsonObject): SchemaViolation[] {
  if (violations.length === 0) return violations;
  const secrets = secretPointers(value);
  const isSecret = (pointer: string) => secrets.some((s) => pointer === s || pointer.startsWith(`${s}/`));
  return violations.map((v) =>
    isSecret(v.pointer)
      ? { ...v, message: `the secret's value does not satisfy "${v.keyword}" (the value is not shown)` }
      : v,
  );
}

/** The comparable form of a stored response body (its secrets rebuilt from their digests). */
export function comparableOfBody(body: string): JsonObject {
  const parsed = JSON.parse(body) as { content: JsonObject; secretDigests?: Record<string, string> };
  return parsed.secretDigests ? comparableFromRedacted(parsed.content, parsed.secretDigests) : parsed.content;
}
