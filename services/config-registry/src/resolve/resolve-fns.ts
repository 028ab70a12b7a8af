import {
  cloneJson,
  escapePointerToken,
  isPlainObject,
  type JsonObject,
  setOwn,
  toPointer,
} from "../documents/document-fns.js";

import { isSecretNode } from "../secrets/secret-doc-fns.js";
import { type ReferenceErrorCode, type ReferenceProblem, referenceError } from "./reference-problems.js";
import { parseTemplate, type TemplatePart } from "./template-fns.js";

export * from "./explain-fns.js";
export * from "./reference-problems.js";
export * from "./template-fns.js";

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
   * For each of `dependencies`: the JSON pointers of its merged (unresolved) document that the
   * resolution followed a reference to, from any namespace's string (sorted). The result can
   * change with that document only where it changes at, above or below one of them: navigation
   * reads just the nodes on a pointer's path and the subtree at its end, and every string met
   * there that holds a reference adds the pointers it follows.
   */
  reads: Map<string, string[]>;
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
  /** Other namespace → pointers followed into its document (see `ResolveResult.reads`). */
  readonly reads = new Map<string, Set<string>>();

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

  /**
   * The resolved value of `raw` (at `pointer`). A subtree with nothing to resolve is returned as
   * it is, not copied: the result shares it with the input (which nobody changes: layer contents
   * are frozen once written, and resolutions are frozen once kept), and a write to a large
   * document with a few references builds only the objects on the paths to them. A child's
   * pointer is built only where a string holds a reference or to descend into an object.
   */
  resolveNode(namespace: string, pointer: string, raw: unknown): Outcome {
    if (typeof raw === "string") return this.resolveString(namespace, pointer, raw);
    if (Array.isArray(raw)) {
      let failed = false;
      let out: unknown[] | undefined;
      for (let i = 0; i < raw.length; i++) {
        const item: unknown = raw[i];
        const r = this.resolveChild(namespace, pointer, String(i), item);
        if (r === FAILED) failed = true;
        if (out === undefined && r !== item) out = raw.slice(0, i);
        out?.push(r);
      }
      return failed ? FAILED : (out ?? raw);
    }
    if (isPlainObject(raw)) {
      // A secret is a leaf: never resolved inside, and tagged with the namespace whose data key
      // sealed it, which is where it came from (a stored `ns` is never trusted).
      if (isSecretNode(raw)) return stampSecret(raw, namespace);
      let failed = false;
      let out: JsonObject | undefined;
      const keys = Object.keys(raw);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k]!;
        const child = raw[key];
        const r = this.resolveChild(namespace, pointer, key, child);
        if (r === FAILED) failed = true;
        if (out === undefined && r !== child) {
          out = {};
          for (let j = 0; j < k; j++) setOwn(out, keys[j]!, raw[keys[j]!]);
        }
        if (out !== undefined) setOwn(out, key, r);
      }
      return failed ? FAILED : (out ?? raw);
    }
    return raw;
  }

  /** `resolveNode` of the child `token` of the node at `pointer`. */
  private resolveChild(namespace: string, pointer: string, token: string, child: unknown): Outcome {
    if (typeof child === "string") {
      const parts = parseTemplate(child);
      return parts === null
        ? child
        : this.resolveTemplate(namespace, `${pointer}/${escapePointerToken(token)}`, parts);
    }
    if (child === null || typeof child !== "object") return child;
    return this.resolveNode(namespace, `${pointer}/${escapePointerToken(token)}`, child);
  }

  private resolveString(namespace: string, pointer: string, s: string): Outcome {
    const parts = parseTemplate(s);
    if (parts === null) return s;
    return this.resolveTemplate(namespace, pointer, parts);
  }

  private resolveTemplate(namespace: string, pointer: string, parts: TemplatePart[]): Outcome {
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
      if (value === FAILED) return FAILED;
      if (only.ref.kind === "ref" && only.ref.secret && !isSecretNode(value)) {
        this.problem(
          "reference_not_secret",
          frame,
          only.raw,
          `the reference ${only.raw} at ${frame.key} is not a secret (use \${ref:...} for other values)`,
        );
        return FAILED;
      }
      return cloneJson(value);
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
      } else if (isSecretNode(value)) {
        this.problem(
          "reference_invalid",
          frame,
          part.raw,
          `the reference ${part.raw} at ${frame.key} is a secret, which cannot be embedded in a longer string (make it the whole string)`,
        );
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
    frame.trace?.add(`${ref.secret ? "secret" : "ref"}:${namespace}:${toPointer(ref.tokens)}`);
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
    if (namespace !== this.input.namespace) {
      const pointers = this.reads.get(namespace);
      if (pointers) pointers.add(toPointer(ref.tokens));
      else this.reads.set(namespace, new Set([toPointer(ref.tokens)]));
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
      if (isSecretNode(node)) {
        this.problem(
          "reference_missing",
          frame,
          raw,
          `the reference ${raw} at ${frame.key}: ${pointer} of ${namespace} is a secret; reference the secret itself`,
        );
        return FAILED;
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

/** A copy of a secret node naming `namespace` as the one whose data key sealed it. */
function stampSecret(node: { $secret: unknown }, namespace: string): JsonObject {
  const inner = node.$secret;
  return {
    ...cloneJson(node as JsonObject),
    $secret: isPlainObject(inner) ? { ...cloneJson(inner), ns: namespace } : inner,
  };
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
    reads: new Map([...resolver.reads].map(([namespace, pointers]) => [namespace, [...pointers].sort()])),
  };
  if (input.trace) result.references = resolver.rootTraces;
  return result;
}
