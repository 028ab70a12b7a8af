import type { Pool } from "@nexus/kit";
import { assertLayerOf, namespaceNotFound } from "../layers/layer-service.js";
import { BASE_LAYER } from "../layers/layer-types.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { ResolveCache } from "./resolve-cache.js";
import { explainDocument } from "./resolve-fns.js";
import type { ResolveService } from "./resolve-service.js";
import type { ResolveStore } from "./resolve-store.js";
import type { NamespaceState, ResolvedHead } from "./resolve-types.js";

export interface ResolveReadDeps {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName">;
  resolved: Pick<ResolveStore, "find">;
  cache: Pick<ResolveCache, "get" | "fill">;
  resolve: Pick<ResolveService, "loadStates" | "loadReferenced" | "resolveIn">;
}

/** Reads of resolved config: Redis first, then the materialised head in Postgres. */
export function createResolveReadService(deps: ResolveReadDeps) {
  async function notFound(namespace: string, environment: string): Promise<never> {
    const ns = await deps.namespaces.findByName(deps.pool, namespace);
    if (!ns) throw namespaceNotFound(namespace);
    assertLayerOf(ns, environment);
    throw namespaceNotFound(namespace); // unreachable: a listed environment always has a head
  }

  return {
    async get(namespace: string, environment: string): Promise<ResolvedHead> {
      const cached = await deps.cache.get(namespace, environment);
      if (cached) return cached;
      const head = await deps.resolved.find(deps.pool, namespace, environment);
      if (!head) return notFound(namespace, environment);
      await deps.cache.fill(head);
      return head;
    },

    /** Per-key provenance: which layer (and revision) each resolved value came from. */
    async explain(namespace: string, environment: string) {
      const head = await this.get(namespace, environment);
      const states = new Map<string, NamespaceState>();
      await deps.resolve.loadStates(deps.pool, [namespace], states);
      await deps.resolve.loadReferenced(deps.pool, states);
      const state = states.get(namespace)!;
      const { value, references } = deps.resolve.resolveIn(states, namespace, environment, true);
      const layers = [BASE_LAYER, environment].map((name) => ({
        name,
        revision: state.layerRevisions.get(name) ?? null,
        content: state.layers.get(name) ?? {},
      }));
      return {
        head,
        explain: explainDocument({
          namespace,
          layers,
          resolved: value,
          ...(references ? { references } : {}),
        }),
      };
    },
  };
}
export type ResolveReadService = ReturnType<typeof createResolveReadService>;
