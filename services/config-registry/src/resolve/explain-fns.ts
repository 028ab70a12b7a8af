/** Per-key provenance of a resolved document: which layer (and revision) each value came from. */
import type { ProvenanceDto } from "@nexus/contracts";
import { deepMerge, isPlainObject, type JsonObject, toPointer } from "../documents/document-fns.js";
import { parseTemplate } from "./template-fns.js";

// ---------------------------------------------------------------------------------------------
// Provenance

export interface ExplainLayer {
  /** `base` or an environment name. */
  name: string;
  /** The revision of this layer's document, `null` when the layer has none yet. */
  revision: number | null;
  content: JsonObject;
}

/** Where a leaf's value came from (`ProvenanceDto` in @nexus/contracts; references: see `ResolveResult.references`). */
export type Provenance = ProvenanceDto;

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
      ids.push(
        `${part.ref.secret ? "secret" : "ref"}:${part.ref.namespace ?? namespace}:${toPointer(part.ref.tokens)}`,
      );
  }
  return [...new Set(ids)];
}
