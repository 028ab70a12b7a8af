import type { ResolvedHead } from "./resolve-types.js";
import { committedLater } from "./resolved-fns.js";

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
    // Encoded on its first read (`get`): a write re-resolving N readers puts N heads here, most of
    // which this instance may never serve before the next write replaces them.
    entries.set(k, { head: { ...head }, expiresAt: now() + options.ttlMs });
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
      entry.head.encoded ??= Buffer.from(entry.head.body);
      return entry.head;
    },

    /** A token for `fill`: take it before reading from Redis or Postgres. */
    epoch: () => epoch,

    /** Store what a read found, unless something was invalidated since the read began. */
    fill(head: ResolvedHead, readEpoch: number): void {
      if (readEpoch === epoch) put(head);
    },

    /**
     * This instance's own write, already committed: the new heads are the truth, unless a later
     * commit of the same document got here first (two writes' answers can come back in either
     * order, with the same revision when both re-resolved a namespace that reads another).
     */
    replace(heads: readonly ResolvedHead[]): void {
      epoch++;
      for (const head of heads) {
        const held = entries.get(key(head.namespace, head.environment));
        if (held && committedLater(held.head, head)) continue;
        put(head);
      }
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

/** Own events awaited at most; one never heard (a refused write's, a gap) is dropped the oldest first. */
const OWN_CHANGES_KEPT = 10_000;

/**
 * This instance's own `config.changed` events, by event id, so that when they come back on the
 * invalidation subscription they are applied from what the write produced instead of parsed: the
 * same `invalidate` call, without a JSON parse and a schema check per write of work done here.
 */
export function createOwnChanges(memory: Pick<ResolveMemoryCache, "invalidate">) {
  const pending = new Map<string, { namespace: string; environment: string; hash: string }>();
  return {
    /** The events of a write about to commit (`ids[i]` is the id of `events[i]`). */
    expect(
      ids: readonly string[],
      events: readonly { namespace: string; environment: string; hash: string }[],
    ): void {
      events.forEach((e, i) => {
        pending.set(ids[i]!, { namespace: e.namespace, environment: e.environment, hash: e.hash });
      });
      while (pending.size > OWN_CHANGES_KEPT) pending.delete(pending.keys().next().value!);
    },
    /** True when `eventId` is one of ours: it is applied here and need not be read. */
    heard(eventId: string): boolean {
      const change = pending.get(eventId);
      if (!change) return false;
      pending.delete(eventId);
      memory.invalidate(change.namespace, change.environment, change.hash);
      return true;
    },
  };
}
