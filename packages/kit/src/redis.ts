import { Redis } from "ioredis";
import { traceRedisCommands } from "./tracing/store-spans.js";

export type { Redis };

export interface RedisConfig {
  url: string;
  keyPrefix: string;
  /**
   * Commands issued in one turn of the event loop go out in one socket write (ioredis waits for
   * `setImmediate`): for a process whose concurrent requests each send one, as the registry's do.
   */
  autoPipelining?: boolean;
}

/**
 * Redis holds only rebuildable state, so the client must never block a request waiting for it:
 * no offline queue (commands fail fast while disconnected) and a short command timeout.
 * Callers treat a failure as a cache miss.
 */
export function createRedis(config: RedisConfig): Redis {
  const redis = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    enableAutoPipelining: config.autoPipelining ?? false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 2_000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  traceRedisCommands(redis as never);
  return redis;
}
