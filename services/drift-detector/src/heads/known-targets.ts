import type { Pool } from "@nexus/kit";
import type { HeadStore } from "./head-store.js";
import type { RegistryClient } from "./registry-client.js";

/** A "does not exist" answer is trusted this long before the registry is asked again. */
const MISSING_TTL_MS = 5_000;

export interface KnownTargets {
  /**
   * Whether (namespace, environment) exists. Known from a head (a `config.changed` or an earlier
   * read), else asked of the registry; throws when the registry cannot say (the caller retries).
   */
  exists(namespace: string, environment: string): Promise<boolean>;
}

/**
 * Which namespaces and environments exist, for the inventory: a report about one that does not
 * is not an instance. The detector already learns heads from `config.changed` and from the
 * registry, so a head means "exists"; without one the registry's own read
 * (`nexus.config.cmd.get`) decides, as for the reconciler. Answers are kept in memory, so the
 * hot path (a heartbeat of a known namespace) costs no I/O: an existing target stays known for
 * the life of the process, a missing one is asked again after a few seconds (it may be created).
 */
export function createKnownTargets(deps: {
  pool: Pool;
  heads: Pick<HeadStore, "get">;
  registry: Pick<RegistryClient, "resolved">;
  now?: () => number;
}): KnownTargets {
  const now = deps.now ?? Date.now;
  const known = new Set<string>();
  const missingUntil = new Map<string, number>();
  const asking = new Map<string, Promise<boolean>>();

  async function ask(namespace: string, environment: string): Promise<boolean> {
    if (await deps.heads.get(deps.pool, namespace, environment)) return true;
    return (await deps.registry.resolved(namespace, environment)) !== null;
  }

  return {
    async exists(namespace, environment) {
      const key = `${namespace}\u0000${environment}`;
      if (known.has(key)) return true;
      if ((missingUntil.get(key) ?? 0) > now()) return false;
      let pending = asking.get(key);
      if (!pending) {
        pending = ask(namespace, environment).finally(() => asking.delete(key));
        asking.set(key, pending);
      }
      const exists = await pending;
      if (exists) {
        known.add(key);
        missingUntil.delete(key);
      } else {
        if (missingUntil.size > 10_000) missingUntil.clear();
        missingUntil.set(key, now() + MISSING_TTL_MS);
      }
      return exists;
    },
  };
}
