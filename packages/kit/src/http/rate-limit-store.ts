import type { FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { Redis } from "ioredis";

/** How often an instance adds its counts to the shared ones in Redis, by default. */
export const DEFAULT_RATE_LIMIT_SYNC_MS = 100;

/**
 * Adds each key's local count to its shared counter and returns the totals with the time left in
 * the window: `{current, ttlMs}` per key. A counter Redis has no expiry for (a first count) gets
 * the key's window.
 * KEYS: the counters; ARGV: per key, its increment then its window in ms.
 */
const ADD_COUNTS = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local current = redis.call('INCRBY', key, n)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  out[2 * i - 1] = current
  out[2 * i] = ttl
end
return out`;

interface SharedCounts {
  nexusRateLimitAdd(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
}

interface Counter {
  /** The shared total after this instance's last sync (its own counts up to then included). */
  known: number;
  /** Counted here since, not sent yet. */
  unsent: number;
  /** Sent, no answer yet. */
  sending: number;
  window: number;
  /** When the window ends, on this process's clock (Redis's TTL at the last sync). */
  resetAt: number;
}

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/** What `@fastify/rate-limit` calls a store (`incr`, `read`, `child`). */
export interface RateLimitStore {
  incr(key: string, cb: Callback, timeWindow: number, max: number): void;
  read(key: string, cb: Callback): void;
  child(routeOptions: { routeInfo: { method: string; url: string } }): RateLimitStore;
}

export interface BatchedRateLimitOptions {
  redis: Redis;
  /** Before every key (after the client's own key prefix). */
  nameSpace: string;
  /** How long counts may wait before they are added to the shared ones. */
  syncMs?: number;
  now?: () => number;
}

/**
 * Per-key request counts shared through Redis without a Redis round trip per request: each
 * request is counted and decided here, against the shared total this instance last heard plus
 * what it counted since; every `syncMs` one script call adds all keys' new counts to the shared
 * counters and brings back the totals (other instances' requests included). `@fastify/rate-limit`'s
 * own Redis store pays an `EVALSHA` (INCR + PTTL) per request, one of the registry's four Redis
 * round trips per config change (the write and the SDK's read each pay one).
 *
 * The trade-off: across N instances a key may get up to (N − 1) × (its requests per `syncMs`)
 * more than the limit before every instance has heard the others' counts (a 6,000/min token at
 * full speed: ≤ 10 per other instance, at the default 100 ms); one instance alone counts exactly.
 * With Redis unreachable the counts keep accumulating here and are added once it is back, so the
 * limit still holds per instance (the plugin's store failed open instead, `skipOnError`).
 */
export function createBatchedRateLimitStore(options: BatchedRateLimitOptions): FastifyRateLimitStoreCtor {
  const { redis } = options;
  const syncMs = options.syncMs ?? DEFAULT_RATE_LIMIT_SYNC_MS;
  const now = options.now ?? Date.now;
  const counters = new Map<string, Counter>();
  let timer: NodeJS.Timeout | undefined;
  let syncing = false;

  if (!("nexusRateLimitAdd" in redis)) redis.defineCommand("nexusRateLimitAdd", { lua: ADD_COUNTS });

  function schedule(): void {
    if (timer || syncing) return;
    timer = setTimeout(() => void sync(), syncMs);
    timer.unref();
  }

  async function sync(): Promise<void> {
    timer = undefined;
    const at = now();
    const batch: [string, Counter][] = [];
    for (const [key, c] of counters) {
      if (c.unsent > 0) batch.push([key, c]);
      else if (c.sending === 0 && c.resetAt <= at) counters.delete(key);
    }
    if (batch.length === 0) return;
    syncing = true;
    const args: (string | number)[] = [];
    for (const [key, c] of batch) {
      c.sending = c.unsent;
      c.unsent = 0;
      args.push(key);
    }
    for (const [, c] of batch) args.push(c.sending, c.window);
    try {
      const totals = await (redis as unknown as SharedCounts).nexusRateLimitAdd(batch.length, ...args);
      const heard = now();
      batch.forEach(([, c], i) => {
        c.known = Number(totals[2 * i]);
        c.sending = 0;
        c.resetAt = heard + Number(totals[2 * i + 1]);
      });
    } catch {
      // Redis unreachable (or slow): keep the counts and add them at the next sync.
      for (const [, c] of batch) {
        c.unsent += c.sending;
        c.sending = 0;
      }
    } finally {
      syncing = false;
    }
    // Counted while the script ran (or put back after a failure): the next sync takes them.
    for (const c of counters.values()) if (c.unsent > 0) return schedule();
  }

  function counted(key: string, window: number, add: number): { current: number; ttl: number } {
    const at = now();
    let c = counters.get(key);
    if (!c) {
      c = { known: 0, unsent: 0, sending: 0, window, resetAt: at + window };
      counters.set(key, c);
    } else if (c.resetAt <= at) {
      // The window ended: its counter in Redis expired with it.
      c.known = 0;
      c.resetAt = at + window;
    }
    if (add > 0) {
      c.unsent += add;
      schedule();
    }
    return { current: c.known + c.sending + c.unsent, ttl: Math.max(0, c.resetAt - at) };
  }

  function store(prefix: string): RateLimitStore {
    return {
      incr(key, cb, timeWindow) {
        cb(null, counted(prefix + key, timeWindow, 1));
      },
      read(key, cb) {
        const c = counters.get(prefix + key);
        cb(
          null,
          c
            ? { current: c.known + c.sending + c.unsent, ttl: Math.max(0, c.resetAt - now()) }
            : { current: 0, ttl: 0 },
        );
      },
      child(routeOptions) {
        return store(`${prefix}${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}-`);
      },
    };
  }

  // The plugin constructs the store itself (`new Store(params)`).
  return class {
    constructor() {
      // biome-ignore lint/correctness/noConstructorReturn: the plugin wants a class; the store is a closure.
      return store(options.nameSpace);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
