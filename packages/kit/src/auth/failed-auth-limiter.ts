import type { Redis } from "ioredis";

export interface FailedAuthLimiterOptions {
  redis: Redis | null;
  keyPrefix: string;
  /** Failed attempts allowed per address within the window before it is refused. */
  maxFailures: number;
  windowSeconds: number;
}

export interface FailedAuthLimiter {
  /** Seconds this address must still wait, as this instance knows it (no I/O: asked on every request). */
  blockedFor(address: string): number;
  /** Count a failure (shared through Redis); returns the seconds the address is now blocked for, or 0. */
  recordFailure(address: string): Promise<number>;
}

/**
 * Slows token guessing: an address that presents too many bad credentials has its further bad
 * ones refused with 429 for the rest of the window. A valid credential from that address is never
 * refused (the access hook asks only after a credential failed): behind a NAT, a proxy or a shared
 * CI runner, one misconfigured client must not lock everyone out. The address is the client's as
 * fastify sees it, so behind a reverse proxy set TRUST_PROXY. Failures are counted in Redis, so guesses
 * spread over instances add up; each instance learns of a block at the address's next failure
 * there, and remembers it in memory, so a request with a good token costs no Redis round trip.
 * While Redis is away each instance counts on its own (never open, never a stall).
 */
export function createFailedAuthLimiter(options: FailedAuthLimiterOptions): FailedAuthLimiter {
  const local = new Map<string, { count: number; until: number }>();
  const blocked = new Map<string, number>();
  const key = (address: string) => `${options.keyPrefix}authfail:${address}`;

  function countLocally(address: string): { count: number; ttl: number } {
    const now = Date.now();
    const entry = local.get(address);
    if (!entry || entry.until < now) {
      if (local.size > 10_000) local.clear();
      local.set(address, { count: 1, until: now + options.windowSeconds * 1000 });
      return { count: 1, ttl: options.windowSeconds };
    }
    entry.count += 1;
    return { count: entry.count, ttl: Math.ceil((entry.until - now) / 1000) };
  }

  return {
    blockedFor(address) {
      const until = blocked.get(address);
      if (until === undefined) return 0;
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) return left;
      blocked.delete(address);
      return 0;
    },
    async recordFailure(address) {
      let { count, ttl } = countLocally(address);
      try {
        if (options.redis) {
          const results = (await options.redis
            .multi()
            .incr(key(address))
            .expire(key(address), options.windowSeconds, "NX")
            .ttl(key(address))
            .exec()) as [[unknown, number], [unknown, number], [unknown, number]];
          count = results[0][1];
          ttl = results[2][1];
        }
      } catch {
        // counted locally above
      }
      if (count < options.maxFailures) return 0;
      const seconds = Math.max(ttl, 1);
      if (blocked.size > 10_000) blocked.clear();
      blocked.set(address, Date.now() + seconds * 1000);
      return seconds;
    },
  };
}
