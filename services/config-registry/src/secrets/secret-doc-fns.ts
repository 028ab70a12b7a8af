/**
 * Secrets inside configuration documents, without I/O.
 *
 * A secret is written as `{"$secret": "<value>"}` (that one key) anywhere in a layer. It is
 * stored sealed: `{"$secret": {"v": 1, "key": <data key id>, "ct": "<base64 iv|ciphertext|tag>",
 * "digest": "<hex HMAC>"}}`; in a resolved document a sealed node also names the namespace whose
 * data key sealed it (`"ns"`), because `${secret:other:path}` brings other namespaces' secrets in.
 *
 * Forms of a document with secrets:
 * - stored: sealed nodes (what Postgres keeps);
 * - redacted: each node is `"***"` (what callers without secret-reader get, and every cache);
 * - hash form: each node is `{"$secret": {"digest": d}}` (what revision hashes and ETags cover:
 *   a changed value changes it, a re-encryption of the same value does not);
 * - revealed: each node is its plaintext (secret-readers, per request, never cached).
 */
import type { JsonPatchOperation } from "../documents/document-fns.js";
import {
  escapePointerToken,
  isPlainObject,
  type JsonObject,
  parsePointer,
  setOwn,
} from "../documents/document-fns.js";

export const SECRET_KEY = "$secret";
export const REDACTED = "***";
/** In canonical JSON a key named `$secret` always appears as this text, and nothing else does. */
const SECRET_KEY_TEXT = '"$secret":';

export interface SealedSecret {
  v: 1;
  /** Id of the data key that encrypted it (global, never reused). */
  key: number;
  ct: string;
  digest: string;
  /** In resolved documents only: the namespace whose data key sealed it. */
  ns?: string;
}

/** Cheap test on canonical (or any JSON.stringify) text: false means the document has no secret. */
export function mayHoldSecrets(jsonText: string): boolean {
  return jsonText.includes(SECRET_KEY_TEXT);
}

/** Any object with a `$secret` key: a secret, well-formed or not (redaction hides all of them). */
export function isSecretNode(value: unknown): value is { $secret: unknown } {
  return isPlainObject(value) && Object.hasOwn(value, SECRET_KEY);
}

/** `{"$secret": "<value>"}` as written by a caller. */
export function plaintextOf(value: unknown): string | undefined {
  if (!isSecretNode(value) || Object.keys(value).length !== 1) return undefined;
  return typeof value.$secret === "string" ? value.$secret : undefined;
}

/** The sealed node's fields when `value` is a well-formed sealed secret. */
export function sealedOf(value: unknown): SealedSecret | undefined {
  if (!isSecretNode(value) || Object.keys(value).length !== 1) return undefined;
  const s = value.$secret;
  if (!isPlainObject(s)) return undefined;
  if (s.v !== 1 || !Number.isSafeInteger(s.key) || typeof s.ct !== "string" || typeof s.digest !== "string")
    return undefined;
  if (s.ns !== undefined && typeof s.ns !== "string") return undefined;
  return s as unknown as SealedSecret;
}

export function sealedNode(secret: SealedSecret): { $secret: SealedSecret } {
  return { [SECRET_KEY]: secret } as { $secret: SealedSecret };
}

/** Does the document (walked, not its text) hold a secret anywhere? */
export function holdsSecrets(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsSecrets);
  if (!isPlainObject(value)) return false;
  if (Object.hasOwn(value, SECRET_KEY)) return true;
  for (const key of Object.keys(value)) if (holdsSecrets(value[key])) return true;
  return false;
}

/**
 * A copy of `doc` with every secret node replaced by what `replace` returns for it (given its
 * JSON pointer). Secret nodes are not walked into.
 */
export function mapSecrets<T>(doc: T, replace: (node: { $secret: unknown }, pointer: string) => unknown): T {
  const walk = (value: unknown, pointer: string): unknown => {
    if (isSecretNode(value)) return replace(value, pointer);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${pointer}/${i}`));
    if (isPlainObject(value)) {
      const out: JsonObject = {};
      for (const key of Object.keys(value))
        setOwn(out, key, walk(value[key], `${pointer}/${escapePointerToken(key)}`));
      return out;
    }
    return value;
  };
  return walk(doc, "") as T;
}

/** Every secret's pointer, in document order. */
export function secretPointers(doc: unknown): string[] {
  const out: string[] = [];
  mapSecrets(doc, (node, pointer) => {
    out.push(pointer);
    return node;
  });
  return out;
}

export const redactSecrets = <T>(doc: T): T => mapSecrets(doc, () => REDACTED);

/** What hashes cover: the digest stands for the value (see the module comment). */
export const hashFormOf = <T>(doc: T): T =>
  mapSecrets(doc, (node) => ({ [SECRET_KEY]: { digest: sealedOf(node)?.digest ?? "" } }));

/**
 * The first pointer where `next` holds the redaction placeholder `"***"` and `stored` holds a
 * secret: what a layer read, edited and written back looks like. Undefined when there is none.
 */
export function placeholderOverSecret(stored: JsonObject, next: JsonObject): string | undefined {
  for (const pointer of secretPointers(stored)) {
    let node: unknown = next;
    for (const token of parsePointer(pointer)) {
      node =
        isPlainObject(node) && Object.hasOwn(node, token)
          ? node[token]
          : Array.isArray(node)
            ? node[Number(token)]
            : undefined;
    }
    if (node === REDACTED) return pointer;
  }
  return undefined;
}

/** Pointer → digest of each secret, for the resolved response (clients check the hash with it). */
export function secretDigestsOf(doc: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  mapSecrets(doc, (node, pointer) => {
    out[pointer] = sealedOf(node)?.digest ?? "";
    return node;
  });
  return out;
}

const MARK = "\u0000secret\u0000";

/** Each secret as one string leaf that changes with its value: for `changedPaths`. */
export const comparableFormOf = <T>(doc: T): T =>
  mapSecrets(doc, (node) => MARK + (sealedOf(node)?.digest ?? ""));

/** The same comparable form rebuilt from a redacted document and its digests. */
export function comparableFromRedacted(content: JsonObject, digests: Record<string, string>): JsonObject {
  let out = content;
  for (const [pointer, digest] of Object.entries(digests)) out = setAtPointer(out, pointer, MARK + digest);
  return out;
}

/** A copy of `doc` with the value at `pointer` replaced (the path must exist). */
export function setAtPointer(doc: JsonObject, pointer: string, value: unknown): JsonObject {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const set = (node: unknown, i: number): unknown => {
    const token = tokens[i]!;
    if (Array.isArray(node)) {
      const copy = [...node];
      copy[Number(token)] = i === tokens.length - 1 ? value : set(node[Number(token)], i + 1);
      return copy;
    }
    if (isPlainObject(node) && Object.hasOwn(node, token)) {
      const copy: JsonObject = { ...node };
      setOwn(copy, token, i === tokens.length - 1 ? value : set(node[token], i + 1));
      return copy;
    }
    return node;
  };
  return set(doc, 0) as JsonObject;
}

/**
 * RFC 6902 operations with every secret shown as `"***"`: an operation inside a secret node (its
 * ciphertext or digest changed) becomes a `replace` of the whole secret, and values that hold
 * secrets are redacted. Operations on documents without secrets come back unchanged.
 */
export function redactDiff(ops: JsonPatchOperation[]): JsonPatchOperation[] {
  const out: JsonPatchOperation[] = [];
  const replaced = new Set<string>();
  for (const op of ops) {
    const inside = op.path.search(SECRET_SEGMENT);
    if (inside >= 0) {
      const path = op.path.slice(0, inside);
      if (!replaced.has(path)) out.push({ op: "replace", path, value: REDACTED });
      replaced.add(path);
      continue;
    }
    if ("value" in op && op.value !== null && typeof op.value === "object" && holdsSecrets(op.value)) {
      out.push({ ...op, value: isSecretNode(op.value) ? REDACTED : redactSecrets(op.value) });
      continue;
    }
    out.push(op);
  }
  return out;
}

/** `/$secret` as a whole pointer token (not the start of `/$secrets`). */
const SECRET_SEGMENT = /\/\$secret(?=\/|$)/;
