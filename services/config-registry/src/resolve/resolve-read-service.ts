import type { Pool } from "@nexus/kit";
import { assertLayerOf, namespaceNotFound } from "../layers/layer-service.js";
import { BASE_LAYER } from "../layers/layer-types.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { ResolveCache } from "./resolve-cache.js";
import { explainDocument } from "./resolve-fns.js";
import type { ResolveMemoryCache } from "./resolve-memory-cache.js";
import type { ResolveService } from "./resolve-service.js";
import type { ResolveStore } from "./resolve-store.js";
import type { NamespaceState, ResolvedHead } from "./resolve-types.js";

export interface ResolveReadDeps {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName">;
  resolved: Pick<ResolveStore, "find">;
  cache: Pick<ResolveCache, "get" | "fill">;
  memory: Pick<ResolveMemoryCache, "get" | "epoch" | "fill">;
  resolve: Pick<ResolveService, "loadStates" | "loadReferenced" | "resolveIn">;
}

export interface ReadOptions {
  /**
   * The caller holds a version and asks whether it is current (`If-None-Match`): answer from the
   * shared cache or Postgres, never from this process's memory, which may lag another instance's
   * write by the few ms its event takes.
   */
  conditional?: boolean;
}

/** Reads of resolved config: this process's memory, then Redis, then the head in Postgres. */
export function createResolveReadService(deps: ResolveReadDeps) {
  async function notFound(namespace: string, environment: string): Promise<never> {
    const ns = await deps.namespaces.findByName(deps.pool, namespace);
    if (!ns) throw namespaceNotFound(namespace);
    assertLayerOf(ns, environment);
    throw namespaceNotFound(namespace); // unreachable: a listed environment always has a head
  }

  async function load(namespace: string, environment: string, epoch: number): Promise<ResolvedHead> {
    const cached = await deps.cache.get(namespace, environment);
    if (cached) {
      deps.memory.fill(cached, epoch);
      return cached;
    }
    const head = await deps.resolved.find(deps.pool, namespace, environment);
    if (!head) return notFound(namespace, environment);
    await deps.cache.fill(head);
    deps.memory.fill(head, epoch);
    return head;
  }

  // After a change, every client of a document reads it again at once (conditionally, so past the
  // in-process cache): those reads share one lookup, but only one begun since this process last
  // saw a change, so none is answered with what was read before it.
  const inFlight = new Map<string, { epoch: number; head: Promise<ResolvedHead> }>();

  return {
    async get(namespace: string, environment: string, options: ReadOptions = {}): Promise<ResolvedHead> {
      const local = options.conditional ? null : deps.memory.get(namespace, environment);
      if (local) return local;
      const epoch = deps.memory.epoch();
      const key = `${namespace}\u0000${environment}`;
      const running = inFlight.get(key);
      if (running?.epoch === epoch) return running.head;
      const head = load(namespace, environment, epoch).finally(() => {
        if (inFlight.get(key)?.head === head) inFlight.delete(key);
      });
      inFlight.set(key, { epoch, head });
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
