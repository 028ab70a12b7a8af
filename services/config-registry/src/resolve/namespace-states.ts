import type { Queryable } from "@nexus/kit";
import type { LayerStore } from "../layers/layer-store.js";
import { type DependencyMap, dependencyMapOf } from "./dependency-fns.js";
import { type KnownDocumentsCache, knownKey, newestKeys } from "./known-documents.js";
import type { ResolveStore } from "./resolve-store.js";
import type { NamespaceState, StoredHead } from "./resolve-types.js";
import { referencedNamespaces } from "./resolved-fns.js";

export interface NamespaceStatesDeps {
  layers: Pick<LayerStore, "findAllOf">;
  resolved: Pick<ResolveStore, "findManyLeavingOut" | "findReaders">;
  /** What this process holds: documents it names as held are not sent by Postgres. */
  known: Pick<KnownDocumentsCache, "snapshot">;
}

/** A document of `namespace` Postgres left out of a read because the caller named it as held. */
function heldDocument(
  known: ReadonlyMap<string, Record<string, unknown>>,
  namespace: string,
  name: string,
  hash: string,
): Record<string, unknown> {
  const doc = known.get(knownKey(name, hash));
  // Postgres leaves out only what the query named as known.
  if (!doc)
    throw new Error(`document ${namespace}:${name}:${hash} was left out of the read but is not known`);
  return doc;
}

/**
 * What a resolution reads from Postgres: namespaces with their layer heads, the readers of a
 * target with their schemas, dependencies and resolved heads, and a target's stored heads. Layer
 * contents and head bodies this process already holds (`known`) are left out of each read.
 */
export function createNamespaceStates(deps: NamespaceStatesDeps) {
  /** Load namespaces by name (skipping ones already loaded) with their layer heads. */
  async function loadStates(q: Queryable, names: string[], into: Map<string, NamespaceState>): Promise<void> {
    const missing = [...new Set(names)].filter((n) => !into.has(n));
    if (missing.length === 0) return;
    const rows = await q.query<{
      name: string;
      environments: string[];
      variables: Record<string, string>;
      writeVersion: string;
      rolloutGates: Record<string, string>;
    }>(
      'SELECT name, environments, variables, write_version AS "writeVersion", rollout_gates AS "rolloutGates" FROM namespaces WHERE name = ANY($1)',
      [missing],
    );
    for (const r of rows.rows) {
      into.set(r.name, { ...r, layers: new Map(), layerRevisions: new Map() });
    }
    for (const head of await deps.layers.findAllOf(
      q,
      rows.rows.map((r) => r.name),
    )) {
      const state = into.get(head.namespace)!;
      state.layers.set(head.layer, head.content);
      state.layerRevisions.set(head.layer, head.revision);
    }
  }

  /** Load, transitively, every namespace the given ones reference across namespaces. */
  async function loadReferenced(q: Queryable, states: Map<string, NamespaceState>): Promise<void> {
    const scanned = new Set<string>();
    for (;;) {
      const wanted: string[] = [];
      for (const state of states.values()) {
        if (scanned.has(state.name)) continue;
        scanned.add(state.name);
        for (const content of state.layers.values()) wanted.push(...referencedNamespaces(content));
      }
      const before = states.size;
      await loadStates(q, wanted, states);
      if (states.size === before && [...states.keys()].every((n) => scanned.has(n))) return;
    }
  }

  /**
   * The stored heads of the target and its readers. A body this process already holds in the
   * form `changedPaths` compares (it wrote that head) is left out of the read: a write to an
   * upstream with N readers would otherwise fetch and parse N bodies each time, only to find most
   * unchanged or to compare the few that changed.
   */
  async function previousHeads(q: Queryable, namespace: string): Promise<StoredHead[]> {
    const held = deps.known.snapshot(namespace).resolved;
    const keys = [...held.keys()].map((key) => `${namespace}:${key}`);
    const heads = await deps.resolved.findManyLeavingOut(q, [namespace], keys);
    return heads.map((h) =>
      h.body !== null ? h : { ...h, comparable: heldDocument(held, namespace, h.environment, h.hash) },
    );
  }

  /**
   * The namespaces that read the target, with their schemas and resolved heads, in one statement
   * whatever their number; layer contents and head bodies this process holds are not sent.
   */
  async function loadReaders(
    q: Queryable,
    names: string[],
    into: Map<string, NamespaceState>,
  ): Promise<{
    schemas: Map<string, Record<string, unknown>>;
    heads: StoredHead[];
    dependencies: Map<string, DependencyMap>;
  }> {
    const schemas = new Map<string, Record<string, unknown>>();
    const heads: StoredHead[] = [];
    const dependencies = new Map<string, DependencyMap>();
    const missing = names.filter((n) => !into.has(n));
    if (missing.length === 0) return { schemas, heads, dependencies };
    const known = new Map(missing.map((name) => [name, deps.known.snapshot(name)]));
    const rows = await deps.resolved.findReaders(
      q,
      missing.map((name) => ({
        name,
        layers: newestKeys(known.get(name)!.layers),
        heads: newestKeys(known.get(name)!.resolved),
      })),
    );
    for (const r of rows) {
      const state: NamespaceState = {
        name: r.name,
        environments: r.environments,
        variables: r.variables,
        writeVersion: r.writeVersion,
        rolloutGates: r.rolloutGates,
        layers: new Map(),
        layerRevisions: new Map(),
      };
      const held = known.get(r.name)!;
      for (const l of r.layers) {
        state.layers.set(l.layer, l.content ?? heldDocument(held.layers, r.name, l.layer, l.hash));
        state.layerRevisions.set(l.layer, l.revision);
      }
      into.set(r.name, state);
      if (r.schema) schemas.set(r.name, r.schema);
      dependencies.set(r.name, dependencyMapOf(r.dependencies));
      for (const h of r.resolved) {
        heads.push(
          h.body !== null
            ? { namespace: r.name, ...h }
            : {
                namespace: r.name,
                ...h,
                comparable: heldDocument(held.resolved, r.name, h.environment, h.hash),
              },
        );
      }
    }
    return { schemas, heads, dependencies };
  }

  return { loadStates, loadReferenced, previousHeads, loadReaders };
}
export type NamespaceStates = ReturnType<typeof createNamespaceStates>;
