import type { ResolvedHead } from "./resolve-types.js";

export const DEFAULT_MEMORY_TTL_MS = 2_000;

export interface MemoryCacheOptions {
  /** Bound on how long a missed invalidation (an event lost, a namespace deleted elsewhere) lasts. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  head: ResolvedHead;
  expiresAt: number;
}

/**
 * Resolved heads held in this process, in front of Redis: a Redis round trip costs more than
 * everything else a cached read does. This instance's own writes replace entries before they are
 * acknowledged; other instances' writes remove them when their `config.changed` arrives (a few ms
 * later), and the TTL bounds anything missed. Conditional reads (`If-None-Match`) skip it, so a
 * client told about a change by an event never gets the older document back from here.
 */
export function createResolveMemoryCache(options: MemoryCacheOptions) {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // Bumped by every invalidation: a read that began before one must not store what it read.
  let epoch = 0;
  const key = (namespace: string, environment: string) => `${namespace}\u0000${environment}`;

  function put(head: ResolvedHead): void {
    if (options.ttlMs <= 0) return;
    const k = key(head.namespace, head.environment);
    entries.delete(k); // re-insert at the end: Map order is the eviction order
    const encoded = head.encoded ?? Buffer.from(head.body);
    entries.set(k, { head: { ...head, encoded }, expiresAt: now() + options.ttlMs });
    if (entries.size > options.maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
  }

  return {
    get(namespace: string, environment: string): ResolvedHead | null {
      const k = key(namespace, environment);
      const entry = entries.get(k);
      if (!entry) return null;
      if (entry.expiresAt <= now()) {
        entries.delete(k);
        return null;
      }
      return entry.head;
    },

    /** A token for `fill`: take it before reading from Redis or Postgres. */
    epoch: () => epoch,

    /** Store what a read found, unless something was invalidated since the read began. */
    fill(head: ResolvedHead, readEpoch: number): void {
      if (readEpoch === epoch) put(head);
    },

    /** This instance's own write, already committed: the new heads are the truth. */
    replace(heads: readonly ResolvedHead[]): void {
      epoch++;
      for (const head of heads) put(head);
    },

    /** Another writer changed (namespace, environment) to `hash`. */
    invalidate(namespace: string, environment: string, hash: string): void {
      epoch++;
      const k = key(namespace, environment);
      if (entries.get(k)?.head.hash !== hash) entries.delete(k);
    },

    evict(namespace: string, environments: readonly string[]): void {
      epoch++;
      for (const environment of environments) entries.delete(key(namespace, environment));
    },

    size: () => entries.size,
  };
}
export type ResolveMemoryCache = ReturnType<typeof createResolveMemoryCache>;
