import type { ComparedChangeDto } from "@nexus/contracts";
import { diffDocuments, type JsonObject } from "../documents/document-fns.js";
import type { Provenance } from "./explain-fns.js";

/** One side of a comparison: a resolved document as served (secrets `***`) and its provenance. */
export interface CompareSide {
  environment: string;
  revision: number;
  hash: string;
  content: JsonObject;
  explain: Record<string, Provenance>;
}

/** One key that differs, as answered (`ComparedChangeDto` in @nexus/contracts). */
export type ComparedChange = ComparedChangeDto;

/** The provenance of a pointer: its own entry, or the nearest ancestor's (a replaced object). */
function sourceOf(explain: Record<string, Provenance>, path: string) {
  for (let p = path; ; p = p.slice(0, p.lastIndexOf("/"))) {
    const hit = explain[p];
    if (hit) return { layer: hit.layer, revision: hit.revision };
    if (p === "") return undefined;
  }
}

function valueAt(doc: unknown, path: string): unknown {
  let node = doc;
  for (const token of path.split("/").slice(1)) {
    const key = token.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Two resolved documents side by side: the RFC 6902 operations turning `from` into `to`, each with
 * both values and where each comes from. What a promotion would change, before it is approved.
 */
export function compareResolved(from: CompareSide, to: CompareSide): ComparedChange[] {
  return diffDocuments(from.content, to.content).map((op) => {
    const kind = op.op as ComparedChange["op"];
    const change: ComparedChange = { op: kind, path: op.path };
    if (kind !== "add") {
      change.from = valueAt(from.content, op.path);
      const s = sourceOf(from.explain, op.path);
      if (s) change.fromSource = s;
    }
    if (kind !== "remove") {
      change.to = valueAt(to.content, op.path);
      const s = sourceOf(to.explain, op.path);
      if (s) change.toSource = s;
    }
    return change;
  });
}
