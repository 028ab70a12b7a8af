import type { Redis } from "ioredis";

export interface FailedAuthLimiterOptions {
  redis: Redis | null;
  keyPrefix: string;
  /** Failed attempts allowed per address within the window before it is refused. */
  maxFailures: number;
  windowSeconds: number;
}

export interface FailedAuthLimiter {
  /** Seconds the address must wait, or 0 when it may try. */
  blockedFor(address: string): Promise<number>;
  recordFailure(address: string): Promise<void>;
}

/**
 * Slows token guessing: an address that presents too many bad credentials is refused (429) for
 * the rest of the window. Counted in Redis so all instances share it; while Redis is away each
 * instance counts on its own (never open, never a stall).
 */
export function createFailedAuthLimiter(options: FailedAuthLimiterOptions): FailedAuthLimiter {
  const local = new Map<string, { count: number; until: number }>();
  const key = (address: string) => `${options.keyPrefix}authfail:${address}`;

  const localCount = (address: string) => {
    const entry = local.get(address);
    if (!entry || entry.until < Date.now()) return { count: 0, ttl: 0 };
    return { count: entry.count, ttl: Math.ceil((entry.until - Date.now()) / 1000) };
  };

  return {
    async blockedFor(address) {
      let count: number;
      let ttl: number;
      try {
        if (!options.redis) throw new Error("no redis");
        const [[, c], [, t]] = (await options.redis.multi().get(key(address)).ttl(key(address)).exec()) as [
          [unknown, string | null],
          [unknown, number],
        ];
        count = Number(c ?? 0);
        ttl = t;
      } catch {
        ({ count, ttl } = localCount(address));
      }
      return count >= options.maxFailures ? Math.max(ttl, 1) : 0;
    },
    async recordFailure(address) {
      const entry = local.get(address);
      if (!entry || entry.until < Date.now()) {
        if (local.size > 10_000) local.clear();
        local.set(address, { count: 1, until: Date.now() + options.windowSeconds * 1000 });
      } else entry.count += 1;
      try {
        if (!options.redis) return;
        await options.redis
          .multi()
          .incr(key(address))
          .expire(key(address), options.windowSeconds, "NX")
          .exec();
      } catch {
        // counted locally above
      }
    },
  };
}
