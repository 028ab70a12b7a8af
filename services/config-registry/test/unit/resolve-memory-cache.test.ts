import { describe, expect, it } from "vitest";
import { createOwnChanges, createResolveMemoryCache } from "../../src/resolve/resolve-memory-cache.js";
import type { ResolvedHead } from "../../src/resolve/resolve-types.js";

const head = (
  namespace: string,
  environment: string,
  revision: number,
  hash = `h${revision}`,
): ResolvedHead => ({
  namespace,
  environment,
  revision,
  hash,
  body: `{"revision":${revision}}`,
});

function setup(ttlMs = 1_000, maxEntries = 100) {
  let clock = 0;
  const cache = createResolveMemoryCache({ ttlMs, maxEntries, now: () => clock });
  return { cache, advance: (ms: number) => (clock += ms) };
}

describe("in-process resolved cache", () => {
  it("serves what a write replaced until the TTL runs out", () => {
    const { cache, advance } = setup(1_000);
    cache.replace([head("shop", "production", 3)]);
    expect(cache.get("shop", "production")?.revision).toBe(3);
    expect(cache.get("shop", "staging")).toBeNull();
    advance(999);
    expect(cache.get("shop", "production")?.revision).toBe(3);
    advance(1);
    expect(cache.get("shop", "production")).toBeNull();
  });

  it("does not store a read that began before an invalidation", () => {
    const { cache } = setup();
    const before = cache.epoch();
    cache.invalidate("shop", "production", "h4"); // another instance's write landed meanwhile
    cache.fill(head("shop", "production", 3), before);
    expect(cache.get("shop", "production")).toBeNull();
    cache.fill(head("shop", "production", 4, "h4"), cache.epoch());
    expect(cache.get("shop", "production")?.revision).toBe(4);
  });

  it("keeps an entry whose hash the event confirms and drops one it contradicts", () => {
    const { cache } = setup();
    cache.replace([head("shop", "production", 5), head("shop", "staging", 5)]);
    cache.invalidate("shop", "production", "h5");
    cache.invalidate("shop", "staging", "other");
    expect(cache.get("shop", "production")?.revision).toBe(5);
    expect(cache.get("shop", "staging")).toBeNull();
  });

  it("evicts the least recently stored entry beyond its bound, and whole environments on request", () => {
    const { cache } = setup(1_000, 2);
    cache.replace([head("a", "production", 1), head("b", "production", 1)]);
    cache.replace([head("c", "production", 1)]);
    expect(cache.size()).toBe(2);
    expect(cache.get("a", "production")).toBeNull();
    cache.evict("c", ["production"]);
    expect(cache.get("c", "production")).toBeNull();
    expect(cache.get("b", "production")?.revision).toBe(1);
  });

  it("stores nothing when turned off", () => {
    const { cache } = setup(0);
    cache.replace([head("shop", "production", 1)]);
    expect(cache.size()).toBe(0);
    expect(cache.get("shop", "production")).toBeNull();
  });
  it("applies this instance's own events from what the write produced, once, and no one else's", () => {
    const { cache } = setup();
    const own = createOwnChanges(cache);
    cache.replace([head("shop", "production", 1), head("shop", "staging", 1)]);
    own.expect(
      ["e1", "e2"],
      [
        { namespace: "shop", environment: "production", hash: "h1" },
        { namespace: "shop", environment: "staging", hash: "h9" },
      ],
    );
    expect(own.heard("someone-else")).toBe(false);
    expect(own.heard("e1")).toBe(true);
    expect(cache.get("shop", "production")?.revision).toBe(1); // its own hash: kept
    expect(own.heard("e2")).toBe(true);
    expect(cache.get("shop", "staging")).toBeNull(); // another hash: dropped, as a parsed event would
    expect(own.heard("e1")).toBe(false);
  });
  it("keeps a later revision when an earlier write's heads arrive after it", () => {
    const { cache } = setup();
    cache.replace([head("shop", "production", 7)]);
    cache.replace([head("shop", "production", 6), head("shop", "staging", 6)]);
    expect(cache.get("shop", "production")?.revision).toBe(7);
    expect(cache.get("shop", "staging")?.revision).toBe(6);
    cache.replace([head("shop", "production", 7, "h7-dependency")]); // same revision: replaced
    expect(cache.get("shop", "production")?.hash).toBe("h7-dependency");
  });
});
