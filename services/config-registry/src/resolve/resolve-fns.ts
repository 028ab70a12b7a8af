/**
 * Reference resolution and provenance for merged configuration documents. Pure: other
 * namespaces are read through the synchronous loaders the caller passes in.
 *
 * Reference syntax, inside any string value:
 * | syntax | meaning |
 * |---|---|
 * | `${env:NAME}` | the namespace variable `NAME` (always a string; variables are literal text, never resolved) |
 * | `${ref:a.b[0].c}` / `${ref:a.b.0.c}` | another key of the same document (dot path; `[n]` or a numeric segment indexes an array) |
 * | `${ref:/a/b~1c}` | the same, written as an RFC 6901 JSON pointer (for keys holding `.` or `[`) |
 * | `${ref:other-ns:a.b}` / `${ref:other-ns:/a/b}` | a key of another namespace's document, same environment, resolved in that namespace's context (its own variables and references) |
 * | `$${` | a literal `${` (no reference); see `parseTemplate` for the exact scanning rule |
 *
 * In `${ref:x:y}` a first segment `x` before `:` is always a namespace name (it must match
 * `NAME_PATTERN`), so a local key containing `:` is written as a pointer: `${ref:/a:b}`.
 * Any other kind (`${secret:...}`, `${foo}`) is `reference_invalid`.
 *
 * A string that is exactly one reference takes the referenced value with its type (number,
 * boolean, null, object, array). A reference inside a longer string is stringified (strings
 * as-is, numbers / booleans / null via `String`); an object or array there is an error.
 * Referenced values are resolved first (recursively, across namespaces), so chains work; a
 * resolved value is never scanned again, so `$${` survives as a literal `${` in the output.
 *
 * Errors: every problem in the document is collected, then ONE `ValidationError` is thrown
 * (422). Its `code`, `message` and `field` are those of the first problem found (document order):
 * - `reference_cycle`: following references comes back to a string being resolved;
 * - `reference_missing`: the referenced key does not exist;
 * - `variable_missing`: `${env:NAME}` names no variable of that namespace;
 * - `namespace_missing`: `${ref:ns:...}` names a namespace the loader does not know;
 * - `reference_invalid`: bad syntax (`${` never closed, unknown kind, bad path, bad namespace
 *   name), an object/array embedded in a longer string, or a chain deeper than
 *   `MAX_REFERENCE_DEPTH`.
 * `field` is the JSON pointer of the string holding the bad reference, in the document being
 * resolved (when the bad reference sits in another namespace, the pointer of the local string
 * that led there). `details` = `{ namespace, pointer, reference, chain, errors }`, where `chain`
 * lists the strings being resolved (`"<namespace>:<pointer>"`, outermost first; for a cycle, the
 * cycle itself, closed) and `errors` is every problem as a `ReferenceProblem`.
 *
 * Keys are data: lookups use `Object.hasOwn` and results are built with `setOwn`, so
 * `__proto__` / `constructor` are ordinary keys and nothing reaches `Object.prototype`.
 */
import { NAME_PATTERN } from "@nexus/contracts";
import { ValidationError } from "@nexus/kit";
import {
  cloneJson,
  deepMerge,
  escapePointerToken,
  isPlainObject,
  type JsonObject,
  parsePointer,
  setOwn,
  toPointer,
} from "../documents/document-fns.js";

export type ReferenceErrorCode =
  | "reference_cycle"
  | "reference_missing"
  | "variable_missing"
  | "namespace_missing"
  | "reference_invalid";

export interface ReferenceProblem {
  code: ReferenceErrorCode;
  /** The namespace whose document holds the string with the bad reference. */
  namespace: string;
  /** JSON pointer of that string in that namespace's document. */
  pointer: string;
  /** The reference as written, e.g. `${ref:db.host}`. */
  reference: string;
  message: string;
  /** `"<namespace>:<pointer>"` of the strings being resolved, outermost first. */
  chain: string[];
}

export interface ResolveInput {
  namespace: string;
  /** The merged (base ⊕ overlay), unresolved document. */
  document: JsonObject;
  variables: Record<string, string>;
  /** The merged, unresolved document of another namespace in the same environment; `undefined` = no such namespace. */
  loadNamespace: (namespace: string) => JsonObject | undefined;
  /** Variables of another namespace; missing loader or `undefined` = none. */
  loadVariables?: (namespace: string) => Record<string, string> | undefined;
  /** Also return, per string of the document, every reference it went through (for explain). */
  trace?: boolean;
}

export interface ResolveResult {
  value: JsonObject;
  /** Other namespaces the result depends on, transitively, sorted. */
  dependencies: string[];
  /**
   * With `trace: true`: JSON pointer of each string of the document that holds references →
   * the references it went through, transitively, as canonical ids `ref:<namespace>:<pointer>`
   * and `env:<namespace>:<NAME>`, in the order first met.
   */
  references?: Record<string, string[]>;
}

/** Longest chain of references followed from one string. */
export const MAX_REFERENCE_DEPTH = 64;

// ---------------------------------------------------------------------------------------------
// Template parsing

export type ParsedReference =
  | { kind: "env"; name: string }
  | { kind: "ref"; namespace: string | undefined; tokens: string[] }
  | { kind: "invalid"; reason: string };

export type TemplatePart =
  | { kind: "text"; text: string }
  | { kind: "ref"; raw: string; ref: ParsedReference };

const VARIABLE_NAME = /^[A-Za-z0-9_.-]+$/;
const PATH_SEGMENT = /^([^[\]]+)((?:\[\d+\])*)$/;

/**
 * Splits a string into literal text and references. Scanning is left to right: at each
 * position `$${` is an escaped literal `${`, else `${` opens a reference that the next `}`
 * closes. So `$${a}` is the text `${a}`, and `$$${a}` is `$` followed by the text `${a}`.
 * Returns `null` when the string holds no `${` at all (the common case: nothing to do).
 */
export function parseTemplate(s: string): TemplatePart[] | null {
  if (!s.includes("${")) return null;
  const parts: TemplatePart[] = [];
  let text = "";
  let i = 0;
  while (i < s.length) {
    if (s.startsWith("$${", i)) {
      text += "${";
      i += 3;
      continue;
    }
    if (s.startsWith("${", i)) {
      if (text !== "") parts.push({ kind: "text", text });
      text = "";
      const end = s.indexOf("}", i + 2);
      if (end < 0) {
        parts.push({
          kind: "ref",
          raw: s.slice(i),
          ref: { kind: "invalid", reason: "the reference is not closed by }" },
        });
        return parts;
      }
      const raw = s.slice(i, end + 1);
      parts.push({ kind: "ref", raw, ref: parseReferenceBody(s.slice(i + 2, end)) });
      i = end + 1;
      continue;
    }
    text += s[i];
    i++;
  }
  if (text !== "") parts.push({ kind: "text", text });
  return parts;
}

function parseReferenceBody(body: string): ParsedReference {
  if (body.includes("${")) return { kind: "invalid", reason: "references cannot be nested" };
  const colon = body.indexOf(":");
  const kind = colon < 0 ? body : body.slice(0, colon);
  const rest = colon < 0 ? "" : body.slice(colon + 1);
  if (colon < 0 || (kind !== "env" && kind !== "ref")) {
    return { kind: "invalid", reason: `unknown reference kind ${JSON.stringify(kind)} (use env: or ref:)` };
  }
  if (kind === "env") {
    return VARIABLE_NAME.test(rest)
      ? { kind: "env", name: rest }
      : { kind: "invalid", reason: `invalid variable name ${JSON.stringify(rest)}` };
  }
  let namespace: string | undefined;
  let path = rest;
  if (!rest.startsWith("/")) {
    const sep = rest.indexOf(":");
    if (sep >= 0) {
      namespace = rest.slice(0, sep);
      path = rest.slice(sep + 1);
      if (!NAME_PATTERN.test(namespace)) {
        return { kind: "invalid", reason: `invalid namespace name ${JSON.stringify(namespace)}` };
      }
    }
  }
  const tokens = parsePath(path);
  if (tokens === null) return { kind: "invalid", reason: `invalid path ${JSON.stringify(path)}` };
  return { kind: "ref", namespace, tokens };
}

/** A dot path (`a.b[0].c`) or a JSON pointer (`/a/b/0/c`) → raw tokens; `null` if malformed or empty. */
export function parsePath(path: string): string[] | null {
  if (path === "") return null;
  if (path.startsWith("/")) return parsePointer(path);
  const tokens: string[] = [];
  for (const segment of path.split(".")) {
    const m = PATH_SEGMENT.exec(segment);
    if (!m) return null;
    tokens.push(m[1]!);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) tokens.push(index[1]!);
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Resolution

const FAILED: unique symbol = Symbol("failed");
type Outcome = unknown; // a resolved JSON value, or FAILED

interface Frame {
  key: string;
  namespace: string;
  pointer: string;
  /** The reference currently being followed from this string. */
  reference: string | undefined;
  trace: Set<string> | undefined;
}

const frameKey = (namespace: string, pointer: string) => `${namespace}:${pointer}`;
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

class Resolver {
  private readonly docs = new Map<string, JsonObject | undefined>();
  private readonly variables = new Map<string, Record<string, string>>();
  private readonly memo = new Map<string, Outcome>();
  private readonly traces = new Map<string, Set<string>>();
  private readonly stack: Frame[] = [];
  private readonly onStack = new Map<string, number>();
  private readonly problemKeys = new Set<string>();
  readonly problems: ReferenceProblem[] = [];
  readonly dependencies = new Set<string>();

  constructor(private readonly input: ResolveInput) {
    this.docs.set(input.namespace, input.document);
    this.variables.set(input.namespace, input.variables);
  }

  get rootTraces(): Record<string, string[]> {
    const out: Record<string, string[]> = Object.create(null);
    const prefix = `${this.input.namespace}:`;
    for (const [key, set] of this.traces) {
      if (key.startsWith(prefix) && set.size > 0) out[key.slice(prefix.length)] = [...set];
    }
    return out;
  }

  resolveNode(namespace: string, pointer: string, raw: unknown): Outcome {
    if (typeof raw === "string") return this.resolveString(namespace, pointer, raw);
    if (Array.isArray(raw)) {
      let failed = false;
      const out = raw.map((item, i) => {
        const r = this.resolveNode(namespace, `${pointer}/${i}`, item);
        if (r === FAILED) failed = true;
        return r;
      });
      return failed ? FAILED : out;
    }
    if (isPlainObject(raw)) {
      let failed = false;
      const out: JsonObject = {};
      for (const key of Object.keys(raw)) {
        const r = this.resolveNode(namespace, `${pointer}/${escapePointerToken(key)}`, raw[key]);
        if (r === FAILED) failed = true;
        setOwn(out, key, r);
      }
      return failed ? FAILED : out;
    }
    return raw;
  }

  private resolveString(namespace: string, pointer: string, s: string): Outcome {
    const parts = parseTemplate(s);
    if (parts === null) return s;
    const key = frameKey(namespace, pointer);
    const top = this.stack.at(-1);
    if (this.memo.has(key)) {
      this.mergeTrace(top, this.traces.get(key));
      return this.memo.get(key);
    }
    const at = this.onStack.get(key);
    if (at !== undefined && top !== undefined) {
      const chain = [...this.stack.slice(at).map((f) => f.key), key];
      this.problem(
        "reference_cycle",
        top,
        top.reference ?? "",
        `the reference ${top.reference} at ${top.key} is circular: ${chain.join(" -> ")}`,
        chain,
      );
      return FAILED;
    }
    if (this.stack.length >= MAX_REFERENCE_DEPTH && top !== undefined) {
      this.problem(
        "reference_invalid",
        top,
        top.reference ?? "",
        `the chain of references from ${this.stack[0]?.key} is deeper than ${MAX_REFERENCE_DEPTH}`,
      );
      return FAILED;
    }
    const frame: Frame = {
      key,
      namespace,
      pointer,
      reference: undefined,
      trace: this.input.trace ? new Set() : undefined,
    };
    this.stack.push(frame);
    this.onStack.set(key, this.stack.length - 1);
    let result: Outcome;
    try {
      result = this.evaluate(frame, parts);
    } finally {
      this.stack.pop();
      this.onStack.delete(key);
    }
    this.memo.set(key, result);
    if (frame.trace) this.traces.set(key, frame.trace);
    this.mergeTrace(top, frame.trace);
    return result;
  }

  private evaluate(frame: Frame, parts: TemplatePart[]): Outcome {
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only?.kind === "ref") {
      const value = this.follow(frame, only);
      return value === FAILED ? FAILED : cloneJson(value);
    }
    let failed = false;
    let out = "";
    for (const part of parts) {
      if (part.kind === "text") {
        out += part.text;
        continue;
      }
      const value = this.follow(frame, part);
      if (value === FAILED) {
        failed = true;
      } else if (value !== null && typeof value === "object") {
        this.problem(
          "reference_invalid",
          frame,
          part.raw,
          `the reference ${part.raw} at ${frame.key} is ${Array.isArray(value) ? "an array" : "an object"}, ` +
            "which cannot be embedded in a longer string (make it the whole string)",
        );
        failed = true;
      } else {
        out += String(value);
      }
    }
    return failed ? FAILED : out;
  }

  private follow(frame: Frame, part: Extract<TemplatePart, { kind: "ref" }>): Outcome {
    frame.reference = part.raw;
    const ref = part.ref;
    if (ref.kind === "invalid") {
      this.problem(
        "reference_invalid",
        frame,
        part.raw,
        `the reference ${part.raw} at ${frame.key} is invalid: ${ref.reason}`,
      );
      return FAILED;
    }
    if (ref.kind === "env") {
      frame.trace?.add(`env:${frame.namespace}:${ref.name}`);
      const vars = this.loadVariables(frame.namespace);
      const value = Object.hasOwn(vars, ref.name) ? vars[ref.name] : undefined;
      if (typeof value !== "string") {
        this.problem(
          "variable_missing",
          frame,
          part.raw,
          `the reference ${part.raw} at ${frame.key}: namespace ${frame.namespace} has no variable ${ref.name}`,
        );
        return FAILED;
      }
      return value;
    }
    const namespace = ref.namespace ?? frame.namespace;
    frame.trace?.add(`ref:${namespace}:${toPointer(ref.tokens)}`);
    const doc = this.loadDocument(namespace);
    if (doc === undefined) {
      this.problem(
        "namespace_missing",
        frame,
        part.raw,
        `the reference ${part.raw} at ${frame.key}: there is no namespace ${namespace}`,
      );
      return FAILED;
    }
    return this.navigate(frame, part.raw, namespace, doc, ref.tokens);
  }

  /** Walks to `tokens` in a namespace's document, resolving strings met on the way. */
  private navigate(frame: Frame, raw: string, namespace: string, doc: JsonObject, tokens: string[]): Outcome {
    let node: unknown = doc;
    let pointer = "";
    let resolved = false;
    for (const token of tokens) {
      if (!resolved && typeof node === "string") {
        node = this.resolveString(namespace, pointer, node);
        if (node === FAILED) return FAILED;
        resolved = true;
      }
      if (isPlainObject(node) && Object.hasOwn(node, token)) {
        node = node[token];
      } else if (Array.isArray(node) && ARRAY_INDEX.test(token) && Number(token) < node.length) {
        node = node[Number(token)];
      } else {
        const where = pointer === "" ? "the document root" : pointer;
        this.problem(
          "reference_missing",
          frame,
          raw,
          `the reference ${raw} at ${frame.key}: ${namespace} has no ${Array.isArray(node) ? "index" : "key"} ` +
            `${JSON.stringify(token)} at ${where}`,
        );
        return FAILED;
      }
      pointer += `/${escapePointerToken(token)}`;
    }
    return resolved ? node : this.resolveNode(namespace, pointer, node);
  }

  private loadDocument(namespace: string): JsonObject | undefined {
    if (!this.docs.has(namespace)) {
      const doc = this.input.loadNamespace(namespace);
      this.docs.set(namespace, isPlainObject(doc) ? doc : undefined);
    }
    const doc = this.docs.get(namespace);
    if (doc !== undefined && namespace !== this.input.namespace) this.dependencies.add(namespace);
    return doc;
  }

  private loadVariables(namespace: string): Record<string, string> {
    let vars = this.variables.get(namespace);
    if (vars === undefined) {
      vars = this.input.loadVariables?.(namespace) ?? {};
      this.variables.set(namespace, vars);
    }
    return vars;
  }

  private mergeTrace(into: Frame | undefined, from: Set<string> | undefined): void {
    if (into?.trace === undefined || from === undefined) return;
    for (const id of from) into.trace.add(id);
  }

  private problem(
    code: ReferenceErrorCode,
    frame: Frame,
    reference: string,
    message: string,
    chain: string[] = [...this.stack.map((f) => f.key)],
  ): void {
    const dedup = `${frame.key}\u0000${reference}\u0000${code}`;
    if (this.problemKeys.has(dedup)) return;
    this.problemKeys.add(dedup);
    this.problems.push({
      code,
      namespace: frame.namespace,
      pointer: frame.pointer,
      reference,
      message,
      chain,
    });
  }
}

/**
 * Resolves every reference of a merged document. Linear in the size of the documents visited:
 * each string is resolved once (memoized by namespace and pointer), each other namespace
 * loaded once. Throws one `ValidationError` listing every problem (see the module comment).
 */
export function resolveDocument(input: ResolveInput): ResolveResult {
  const resolver = new Resolver(input);
  const value = resolver.resolveNode(input.namespace, "", input.document);
  if (resolver.problems.length > 0 || value === FAILED) {
    throw referenceError(input.namespace, resolver.problems);
  }
  const result: ResolveResult = {
    value: value as JsonObject,
    dependencies: [...resolver.dependencies].sort(),
  };
  if (input.trace) result.references = resolver.rootTraces;
  return result;
}

function referenceError(namespace: string, problems: ReferenceProblem[]): ValidationError {
  const first = problems[0];
  if (first === undefined)
    return new ValidationError("reference_invalid", "the document's references cannot be resolved");
  const prefix = `${namespace}:`;
  const local =
    first.namespace === namespace
      ? first.pointer
      : first.chain[0]?.startsWith(prefix)
        ? first.chain[0].slice(prefix.length)
        : undefined;
  const more = problems.length - 1;
  const message =
    more > 0 ? `${first.message} (and ${more} more reference problem${more > 1 ? "s" : ""})` : first.message;
  return new ValidationError(first.code, message, {
    field: local ?? first.pointer,
    details: {
      namespace: first.namespace,
      pointer: first.pointer,
      reference: first.reference,
      chain: first.chain,
      errors: problems,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Provenance

export interface ExplainLayer {
  /** `base` or an environment name. */
  name: string;
  /** The revision of this layer's document, `null` when the layer has none yet. */
  revision: number | null;
  content: JsonObject;
}

export interface Provenance {
  /** The layer that last set the value (after `null` deletes). */
  layer: string;
  revision: number | null;
  /** The resolved value of the leaf. */
  value: unknown;
  /** The references the value went through (canonical ids, see `ResolveResult.references`). */
  references?: string[];
}

export interface ExplainInput {
  namespace: string;
  /** The layers in merge order: `base` first, then the environment overlay. */
  layers: readonly ExplainLayer[];
  /** The resolved document (`resolveDocument(...).value`). */
  resolved: JsonObject;
  /**
   * `resolveDocument(..., trace: true).references`, for references followed transitively. Without
   * it, only the references written directly in each string are listed.
   */
  references?: Record<string, string[]>;
}

/**
 * Per-leaf provenance of a resolved document: JSON pointer of each leaf (scalars, arrays and
 * empty objects are leaves) → the layer and revision that set it, its resolved value, and the
 * references it went through. A leaf produced by a reference to an object (`db: "${ref:x}"`) is
 * attributed to the layer that wrote that reference string. The layers are merged with the same
 * rule as `deepMerge` (the first layer's own nulls are values; later layers' nulls delete).
 * A leaf that no layer explains is attributed to layer `"unknown"`.
 */
export function explainDocument(input: ExplainInput): Record<string, Provenance> {
  const [first, ...rest] = input.layers;
  let merged: JsonObject = first ? first.content : {};
  for (const layer of rest) merged = deepMerge(merged, layer.content);

  const out: Record<string, Provenance> = Object.create(null);
  const visit = (value: unknown, tokens: string[]) => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const key of Object.keys(value)) visit(value[key], [...tokens, key]);
      return;
    }
    if (tokens.length === 0) return;
    const anchor = rawAnchor(merged, tokens);
    const anchorPointer = toPointer(anchor.tokens);
    const owner = anchor.found ? ownerOf(input.layers, anchor.tokens) : undefined;
    const entry: Provenance = {
      layer: owner?.name ?? "unknown",
      revision: owner?.revision ?? null,
      value,
    };
    const refs = input.references
      ? input.references[anchorPointer]
      : typeof anchor.raw === "string"
        ? directReferences(input.namespace, anchor.raw)
        : undefined;
    if (refs !== undefined && refs.length > 0) entry.references = [...refs];
    out[toPointer(tokens)] = entry;
  };
  visit(input.resolved, []);
  return out;
}

/** The deepest node of the merged raw document on the path of a resolved leaf. */
function rawAnchor(merged: JsonObject, tokens: string[]): { tokens: string[]; raw: unknown; found: boolean } {
  let node: unknown = merged;
  const walked: string[] = [];
  for (const token of tokens) {
    if (isPlainObject(node) && Object.hasOwn(node, token)) {
      node = node[token];
      walked.push(token);
      continue;
    }
    // The leaf sits inside what a reference string produced (`db: "${ref:x}"`): that string is
    // the anchor. Anything else means the resolved document does not come from these layers.
    return { tokens: walked, raw: node, found: walked.length > 0 && typeof node === "string" };
  }
  return { tokens: walked, raw: node, found: true };
}

/** The last layer holding a value at `tokens` (the first layer's nulls count, later ones delete). */
function ownerOf(layers: readonly ExplainLayer[], tokens: string[]): ExplainLayer | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    let node: unknown = layer.content;
    let found = true;
    for (const token of tokens) {
      if (isPlainObject(node) && Object.hasOwn(node, token)) node = node[token];
      else {
        found = false;
        break;
      }
    }
    if (found && (node !== null || i === 0)) return layer;
  }
  return undefined;
}

/** The references written directly in a string, as canonical ids. */
function directReferences(namespace: string, s: string): string[] {
  const parts = parseTemplate(s);
  if (parts === null) return [];
  const ids: string[] = [];
  for (const part of parts) {
    if (part.kind !== "ref") continue;
    if (part.ref.kind === "env") ids.push(`env:${namespace}:${part.ref.name}`);
    else if (part.ref.kind === "ref")
      ids.push(`ref:${part.ref.namespace ?? namespace}:${toPointer(part.ref.tokens)}`);
  }
  return [...new Set(ids)];
}
