import type { Pool } from "@nexus/kit";
import { canonicalJson } from "../documents/document-fns.js";
import { BASE_LAYER } from "../layers/layer-types.js";
import { assertLayerOf, namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { SecretService } from "../secrets/secret-service.js";
import type { RevealOption } from "../secrets/secret-types.js";
import { type CompareSide, compareResolved } from "./compare-fns.js";
import type { ResolveCache } from "./resolve-cache.js";
import { explainDocument } from "./resolve-fns.js";
import type { ResolveMemoryCache } from "./resolve-memory-cache.js";
import type { ResolveService } from "./resolve-service.js";
import type { ResolveStore } from "./resolve-store.js";
import type { NamespaceState, ResolvedHead } from "./resolve-types.js";
import { bodyHoldsSecrets, renderResolvedBody } from "./resolved-fns.js";
import type { AwaitedVersion } from "./resolved-route-fns.js";

export interface ResolveReadDeps {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName">;
  resolved: Pick<ResolveStore, "find" | "findSealed">;
  cache: Pick<ResolveCache, "get" | "fill">;
  memory: Pick<ResolveMemoryCache, "get" | "epoch" | "fill">;
  resolve: Pick<ResolveService, "loadStates" | "loadReferenced" | "resolveIn">;
  secrets: Pick<SecretService, "reveal">;
}

export interface ReadOptions extends RevealOption {
  /**
   * The caller holds a version and asks whether it is current (`If-None-Match`): answer from the
   * shared cache or Postgres, never from this process's memory, which may lag another instance's
   * write by the few ms its event takes.
   */
  conditional?: boolean;
  /**
   * The version the caller heard of (`Nexus-Awaited`): a conditional read is answered from this
   * process's memory when it holds exactly that version, which cannot be older than what the caller
   * knows (revision and hash together name one body).
   */
  awaited?: AwaitedVersion | undefined;
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

  /**
   * The document with the secrets the caller may read in plaintext, from the sealed form in
   * Postgres, per request: plaintext never enters a cache.
   */
  async function revealed(head: ResolvedHead, options: ReadOptions): Promise<ResolvedHead> {
    const row = await deps.resolved.findSealed(deps.pool, head.namespace, head.environment);
    if (!row?.sealed) return row ?? head;
    const parsed = JSON.parse(row.body) as { secretDigests?: Record<string, string> };
    const content = await deps.secrets.reveal(
      deps.pool,
      JSON.parse(row.sealed),
      options.revealSecrets ?? false,
    );
    const body = renderResolvedBody({
      ...row,
      canonical: canonicalJson(content),
      secretDigests: parsed.secretDigests,
    });
    return {
      namespace: row.namespace,
      environment: row.environment,
      revision: row.revision,
      hash: row.hash,
      body,
    };
  }

  /** The head as it is, or decrypted when it holds secrets (the caller may reveal some). */
  function revealIfSecret(head: ResolvedHead, options: ReadOptions): ResolvedHead | Promise<ResolvedHead> {
    return bodyHoldsSecrets(head.body, head.hash) ? revealed(head, options) : head;
  }

  /**
   * Redis, then Postgres; secrets always `"***"`. A caller awaiting a version Redis does not hold
   * yet is answered from Postgres: a write's event leaves while its instance is still bringing
   * Redis up to date (write-service), and the head is in Postgres from the commit on.
   */
  function fromSharedStores(
    namespace: string,
    environment: string,
    awaited?: AwaitedVersion,
  ): Promise<ResolvedHead> {
    const epoch = deps.memory.epoch();
    const key = `${namespace}\u0000${environment}`;
    const running = inFlight.get(key);
    let head: Promise<ResolvedHead>;
    if (running?.epoch === epoch) head = running.head;
    else {
      const loading = load(namespace, environment, epoch).finally(() => {
        if (inFlight.get(key)?.head === loading) inFlight.delete(key);
      });
      inFlight.set(key, { epoch, head: loading });
      head = loading;
    }
    if (!awaited) return head;
    return head.then((h) => (behind(h, awaited) ? fromPostgres(namespace, environment) : h));
  }

  async function fromPostgres(namespace: string, environment: string): Promise<ResolvedHead> {
    return (await deps.resolved.find(deps.pool, namespace, environment)) ?? notFound(namespace, environment);
  }

  const behind = (head: ResolvedHead, awaited: AwaitedVersion) => head.revision < awaited.revision;

  function awaitedInMemory(
    namespace: string,
    environment: string,
    awaited: AwaitedVersion | undefined,
  ): ResolvedHead | null {
    if (!awaited) return null;
    const head = deps.memory.get(namespace, environment);
    return head?.revision === awaited.revision && head.hash === awaited.hash ? head : null;
  }

  return {
    /**
     * The resolved document: from the caches (secrets `"***"`), or, when the caller may reveal
     * secrets and the document has some, decrypted from Postgres.
     */
    get(namespace: string, environment: string, options: ReadOptions = {}): Promise<ResolvedHead> {
      // A hit in this process's memory stays synchronous up to the response, secret check included.
      const local = options.conditional
        ? awaitedInMemory(namespace, environment, options.awaited)
        : deps.memory.get(namespace, environment);
      if (local) return Promise.resolve(options.revealSecrets ? revealIfSecret(local, options) : local);
      const head = fromSharedStores(namespace, environment, options.awaited);
      return options.revealSecrets ? head.then((h) => revealIfSecret(h, options)) : head;
    },

    /** Per-key provenance: which layer (and revision) each resolved value came from. */
    async explain(namespace: string, environment: string, options: RevealOption = {}) {
      const head = await this.get(namespace, environment, options);
      const states = new Map<string, NamespaceState>();
      await deps.resolve.loadStates(deps.pool, [namespace], states);
      await deps.resolve.loadReferenced(deps.pool, states);
      const state = states.get(namespace)!;
      const { value: sealed, references } = deps.resolve.resolveIn(states, namespace, environment, true);
      const value = await deps.secrets.reveal(deps.pool, sealed, options.revealSecrets ?? false);
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

    /**
     * Two environments of a namespace side by side, as served (secrets `***` whoever asks): the
     * operations from `from` to `to` with each side's value and provenance.
     */
    async compare(namespace: string, from: string, to: string) {
      const side = async (environment: string): Promise<CompareSide> => {
        const { head, explain } = await this.explain(namespace, environment);
        const body = JSON.parse(head.body) as { content: Record<string, unknown> };
        return { environment, revision: head.revision, hash: head.hash, content: body.content, explain };
      };
      const [a, b] = await Promise.all([side(from), side(to)]);
      return {
        namespace,
        from: { environment: from, revision: a.revision, hash: a.hash },
        to: { environment: to, revision: b.revision, hash: b.hash },
        changes: compareResolved(a, b),
      };
    },
  };
}
export type ResolveReadService = ReturnType<typeof createResolveReadService>;
