import { deepFreeze } from "../documents/document-fns.js";
import { BASE_LAYER } from "../namespaces/namespace-types.js";
import type { DependencyMap, Dependent } from "../resolve/dependency-fns.js";
import type { ResolvedHead, StoredHead } from "../resolve/resolve-types.js";
import type { WriteContextRow } from "./write-store.js";

/**
 * A namespace's write context as this instance committed it last, so the next write to it needs
 * no read: its commit statement is the only round trip. Nothing here is trusted, only tried: the
 * commit applies only if the namespace row is still at `writeVersion` (and the same incarnation),
 * which every change to what a write reads moves on (layer writes, namespace and schema updates,
 * Git bindings, a write re-resolving a namespace that reads another). A held state can therefore
 * only lead to a commit of exactly what a fresh read would have led to; any other outcome (a
 * refusal, "unchanged", a lost swap) is decided again from a fresh read by the write service.
 * A row edited by hand in Postgres, without moving the version, is not noticed until the next read.
 */
export interface HeldWriteState {
  row: WriteContextRow;
  /** `row.resolved` holds every environment's head (read for a base write), or only these. */
  resolvedOf: "all" | ReadonlySet<string>;
}

/** The write context a write of `layer` needs, or undefined when the held state lacks its heads. */
export function heldView(held: HeldWriteState, layer: string): WriteContextRow | undefined {
  if (held.resolvedOf === "all") {
    if (layer === BASE_LAYER) return held.row;
    return { ...held.row, resolved: held.row.resolved.filter((h) => h.environment === layer) };
  }
  if (layer === BASE_LAYER || !held.resolvedOf.has(layer)) return undefined;
  return { ...held.row, resolved: held.row.resolved.filter((h) => h.environment === layer) };
}

/** What a fresh read for a write of `layer` covers (its contents frozen: later writes share them). */
export function heldFromRead(row: WriteContextRow, layer: string): HeldWriteState {
  for (const l of row.layers) deepFreeze(l.content);
  return { row, resolvedOf: layer === BASE_LAYER ? "all" : new Set([layer]) };
}

export interface CommittedLayer {
  layer: string;
  revision: number;
  content: Record<string, unknown>;
  hash: string;
  /**
   * New dependencies the commit stored, by namespace (`ResolutionPlan.dependencies`): the
   * target's, and readers' whose pointers into the target changed.
   */
  dependencies: ReadonlyMap<string, DependencyMap>;
  /** Heads the commit stored (any namespace's; only the target's are kept). */
  heads: readonly ResolvedHead[];
  /** The document `changedPaths` compares for a stored head, when this process holds it. */
  comparableOf: (environment: string, hash: string) => Record<string, unknown> | undefined;
}

/**
 * The state after a commit of `write` that swapped `before.row.writeVersion` for the next one:
 * exactly what the namespace row and its layers, heads and dependencies now hold.
 */
export function heldAfterCommit(before: HeldWriteState, write: CommittedLayer): HeldWriteState {
  const { row } = before;
  const name = row.namespace.name;
  const now = new Date().toISOString();
  const layers = row.layers.filter((l) => l.layer !== write.layer);
  layers.push({
    namespace: name,
    layer: write.layer,
    revision: write.revision,
    content: deepFreeze(write.content),
    hash: write.hash,
    updatedAt: now,
  });
  const resolved = new Map<string, StoredHead>(row.resolved.map((h) => [h.environment, h]));
  for (const h of write.heads) {
    if (h.namespace !== name) continue;
    const comparable = write.comparableOf(h.environment, h.hash);
    resolved.set(h.environment, {
      namespace: name,
      environment: h.environment,
      revision: h.revision,
      hash: h.hash,
      ...(comparable ? { body: null, comparable } : { body: h.body }),
    });
  }
  return {
    resolvedOf: before.resolvedOf,
    row: {
      ...row,
      namespace: { ...row.namespace, headRevision: write.revision, updatedAt: now },
      writeVersion: (BigInt(row.writeVersion) + 1n).toString(),
      layers,
      dependencies: write.dependencies.get(name) ?? row.dependencies,
      dependents: dependentsAfter(row.dependents, name, write.dependencies),
      resolved: [...resolved.values()],
    },
  };
}

/** The target's readers after a commit that stored new dependencies of some of them. */
function dependentsAfter(
  dependents: readonly Dependent[],
  name: string,
  dependencies: ReadonlyMap<string, DependencyMap>,
): Dependent[] {
  const byName = new Map(dependents.map((d) => [d.name, d]));
  for (const [reader, map] of dependencies) {
    if (reader === name) continue;
    if (map.has(name)) byName.set(reader, { name: reader, pointers: map.get(name)! });
    else byName.delete(reader);
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const DEFAULT_NAMESPACES = 2_000;

/** Held write states by namespace, least recently written evicted first. */
export function createWriteStateCache(maxNamespaces = DEFAULT_NAMESPACES) {
  const states = new Map<string, HeldWriteState>();
  return {
    get(namespace: string): HeldWriteState | undefined {
      return states.get(namespace);
    },
    /**
     * Keep `state` unless a newer one of the same incarnation is held: two commits' answers can
     * arrive the other way round (at worst an older state is kept; its swap fails and reads again).
     */
    put(namespace: string, state: HeldWriteState): void {
      const current = states.get(namespace);
      if (
        current &&
        current.row.incarnation === state.row.incarnation &&
        BigInt(current.row.writeVersion) > BigInt(state.row.writeVersion)
      ) {
        return;
      }
      states.delete(namespace); // re-inserted at the end: Map order is the eviction order
      if (!current && states.size >= maxNamespaces) states.delete(states.keys().next().value!);
      states.set(namespace, state);
    },
    /** Drop `namespace`'s state (only `state`, when given: not one a later write put meanwhile). */
    forget(namespace: string, state?: HeldWriteState): void {
      if (state === undefined || states.get(namespace) === state) states.delete(namespace);
    },
  };
}
export type WriteStateCache = ReturnType<typeof createWriteStateCache>;
