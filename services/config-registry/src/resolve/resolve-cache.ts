import type { Logger, Redis } from "@nexus/kit";
import type { ResolveMemoryCache } from "./resolve-memory-cache.js";
import type { ResolvedHead } from "./resolve-types.js";
import { decodeCachedHead, encodeCachedHead } from "./resolved-fns.js";

/**
 * For each key: `SET key value EX ttl` unless the entry was committed later (`committedLater`):
 * values start with "<revision>:<version> ", or "<revision> " when an older instance wrote them.
 * KEYS are the entries; ARGV[1] is the TTL, then value, revision and version (may be empty) per key.
 */
const REPLACE_UNLESS_NEWER = `
local ttl = ARGV[1]
local written = 0
for i, key in ipairs(KEYS) do
  local value, revision, version = ARGV[3 * i - 1], ARGV[3 * i], ARGV[3 * i + 1]
  local current = redis.call('GET', key)
  local newer = false
  if current then
    local r, v = string.match(current, '^(%d+):?(%d*) ')
    if r then
      if v ~= '' and version ~= '' then
        newer = tonumber(v) > tonumber(version)
      else
        newer = tonumber(r) > tonumber(revision)
      end
    end
  end
  if not newer then
    redis.call('SET', key, value, 'EX', ttl)
    written = written + 1
  end
end
return written`;

/**
 * Entries one script call replaces at most. A write that re-resolves N readers sends its heads in
 * one call per this many (one round trip for them all, pipelined), instead of one call per head:
 * each call costs the client a command to build and a reply to read, which at hundreds of heads
 * was most of the replace. The bound keeps one call from holding Redis for long.
 */
const REPLACE_CHUNK = 256;

interface ReplaceUnlessNewer {
  nexusReplaceUnlessNewer(keyCount: number, ...args: (string | number)[]): Promise<number>;
}

function replaceUnlessNewer(
  redis: ReplaceUnlessNewer,
  keyOf: (h: ResolvedHead) => string,
  heads: readonly ResolvedHead[],
  ttl: number,
) {
  const values: (string | number)[] = [ttl];
  for (const h of heads) values.push(encodeCachedHead(h), h.revision, h.version ? String(h.version) : "");
  return redis.nexusReplaceUnlessNewer(heads.length, ...heads.map(keyOf), ...values);
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
    // ioredis runs it by EVALSHA, loading it on first use; keys get the client's prefix. No
    // `numberOfKeys`: each call names how many keys it passes.
    if (!("nexusReplaceUnlessNewer" in redis)) {
      redis.defineCommand("nexusReplaceUnlessNewer", { lua: REPLACE_UNLESS_NEWER });
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
      const keyOf = (h: ResolvedHead) => key(h.namespace, h.environment);
      if (heads.length <= REPLACE_CHUNK) {
        // The common write: one script call, without MULTI/EXEC or a pipeline around it.
        await replaceUnlessNewer(redis as unknown as ReplaceUnlessNewer, keyOf, heads, ttlSeconds).catch(
          failed,
        );
        return;
      }
      // A pipeline, not MULTI: each entry stands alone (the script guards its own order), so the
      // calls need no atomicity, and all of them go in one round trip.
      const pipeline = redis.pipeline();
      for (let i = 0; i < heads.length; i += REPLACE_CHUNK)
        replaceUnlessNewer(
          pipeline as unknown as ReplaceUnlessNewer,
          keyOf,
          heads.slice(i, i + REPLACE_CHUNK),
          ttlSeconds,
        );
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
