import type { Logger, Redis } from "@nexus/kit";
import type { ResolveMemoryCache } from "./resolve-memory-cache.js";
import type { ResolvedHead } from "./resolve-types.js";
import { decodeCachedHead, encodeCachedHead } from "./resolved-fns.js";

/**
 * `SET key value EX ttl` unless the entry was committed later (`committedLater`): values start
 * with "<revision>:<version> ", or "<revision> " when an older instance wrote them.
 */
const SET_UNLESS_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local revision, version = string.match(current, '^(%d+):?(%d*) ')
  if revision then
    if version ~= '' and ARGV[4] ~= '' then
      if tonumber(version) > tonumber(ARGV[4]) then return 0 end
    elseif tonumber(revision) > tonumber(ARGV[2]) then
      return 0
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1`;

interface UnlessNewer {
  nexusSetUnlessNewer(
    key: string,
    value: string,
    revision: number,
    ttlSeconds: number,
    version: string,
  ): Promise<number>;
}

function setUnlessNewer(
  redis: Pick<UnlessNewer, "nexusSetUnlessNewer">,
  key: string,
  h: ResolvedHead,
  ttl: number,
) {
  return redis.nexusSetUnlessNewer(
    key,
    encodeCachedHead(h),
    h.revision,
    ttl,
    h.version ? String(h.version) : "",
  );
}

/**
 * Redis cache of resolved documents. Redis is optional: every failure is a miss, logged once per
 * outage, never an error to the caller. Writers overwrite after commit unless a later revision is
 * already there; readers only fill a gap (SET NX), so a slow reader cannot put back what a writer
 * just replaced. A TTL bounds the damage of anything missed (e.g. Redis unreachable during a
 * write); on reconnect the cache is flushed.
 */
export function createResolveCache(deps: {
  redis: Redis | null;
  logger: Logger;
  ttlSeconds: number;
  /** The in-process layer, kept in step by this instance's writes. */
  memory?: Pick<ResolveMemoryCache, "replace" | "evict">;
}) {
  const { redis, logger, ttlSeconds, memory } = deps;
  let degraded = false;
  const key = (namespace: string, environment: string) => `resolved:${namespace}:${environment}`;
  const failed = (err: unknown) => {
    if (!degraded) logger.warn({ err }, "Redis is unreachable: serving resolved config from Postgres");
    degraded = true;
  };

  if (redis) {
    // ioredis runs it by EVALSHA, loading it on first use; keys get the client's prefix.
    if (!("nexusSetUnlessNewer" in redis)) {
      redis.defineCommand("nexusSetUnlessNewer", { numberOfKeys: 1, lua: SET_UNLESS_NEWER });
    }
    redis.on("ready", () => {
      if (!degraded) return;
      degraded = false;
      logger.info("Redis is back: clearing resolved-config cache entries that may be stale");
      void flush().catch(failed);
    });
  }

  async function flush(): Promise<void> {
    if (!redis) return;
    const prefix = redis.options.keyPrefix ?? "";
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}resolved:*`, "COUNT", 500);
      cursor = next;
      if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    } while (cursor !== "0");
  }

  return {
    async get(namespace: string, environment: string): Promise<ResolvedHead | null> {
      if (redis?.status !== "ready") return null;
      try {
        const raw = await redis.get(key(namespace, environment));
        return raw ? decodeCachedHead(namespace, environment, raw) : null;
      } catch (err) {
        failed(err);
        return null;
      }
    },

    async fill(head: ResolvedHead): Promise<void> {
      if (redis?.status !== "ready") return;
      await redis
        .set(key(head.namespace, head.environment), encodeCachedHead(head), "EX", ttlSeconds, "NX")
        .catch(failed);
    },

    /**
     * A write's new heads, after its commit. Two writes to one document from different instances
     * (or connections) can reach here in the other order than they committed: an entry is only
     * replaced by one committed at the same time or later (its version), so the earlier write
     * cannot put back what the later one stored, even when both kept the revision.
     */
    async replace(heads: ResolvedHead[]): Promise<void> {
      if (heads.length === 0) return;
      memory?.replace(heads);
      if (!redis) return;
      if (redis.status !== "ready") return;
      const [only] = heads;
      if (heads.length === 1 && only) {
        // The common overlay write: one script call, without MULTI/EXEC around it.
        await setUnlessNewer(
          redis as unknown as UnlessNewer,
          key(only.namespace, only.environment),
          only,
          ttlSeconds,
        ).catch(failed);
        return;
      }
      // A pipeline, not MULTI: each entry stands alone (the script guards its own order), so the
      // writes need no atomicity, and a write re-resolving N readers sends N scripts in one round
      // trip without Redis queueing them first.
      const pipeline = redis.pipeline();
      for (const h of heads)
        setUnlessNewer(pipeline as unknown as UnlessNewer, key(h.namespace, h.environment), h, ttlSeconds);
      await pipeline.exec().catch(failed);
    },

    async evict(namespace: string, environments: string[]): Promise<void> {
      memory?.evict(namespace, environments);
      if (!redis || environments.length === 0 || redis.status !== "ready") return;
      await redis.del(...environments.map((e) => key(namespace, e))).catch(failed);
    },

    flush,
  };
}
export type ResolveCache = ReturnType<typeof createResolveCache>;
