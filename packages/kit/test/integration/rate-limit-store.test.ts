import { createBatchedRateLimitStore, type Redis } from "@nexus/kit";
import { createTestRedis, type TestRedis } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Store {
  incr(
    key: string,
    cb: (err: Error | null, r?: { current: number; ttl: number }) => void,
    w: number,
    m: number,
  ): void;
}

const incr = (store: Store, key: string, window: number) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) =>
    store.incr(key, (err, r) => (err ? reject(err) : resolve(r!)), window, 1_000),
  );

/** Redis commands sent by `redis` while `fn` runs. */
async function commandsDuring(redis: Redis, fn: () => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name);
    return (original as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof redis.sendCommand;
  try {
    await fn();
  } finally {
    redis.sendCommand = original;
  }
  return sent;
}

describe("batched rate-limit store (real Redis)", () => {
  let r: TestRedis;
  beforeAll(async () => {
    r = await createTestRedis();
  });
  afterAll(async () => r?.cleanup());

  it("counts requests here and adds them to Redis in one script call per sync, not one per request", async () => {
    const Store = createBatchedRateLimitStore({ redis: r.redis, nameSpace: "rl1:", syncMs: 50 });
    const store = new Store({}) as unknown as Store;
    const sent = await commandsDuring(r.redis, async () => {
      for (let i = 1; i <= 200; i++) expect((await incr(store, "token:a", 60_000)).current).toBe(i);
      await new Promise((res) => setTimeout(res, 150));
    });
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(3); // EVALSHA (+ EVAL the first time), not 200
    expect(Number(await r.redis.get("rl1:token:a"))).toBe(200);
    const ttl = await r.redis.pttl("rl1:token:a");
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("two instances share one budget once each has synced", async () => {
    const A = createBatchedRateLimitStore({ redis: r.redis, nameSpace: "rl2:", syncMs: 20 });
    const B = createBatchedRateLimitStore({ redis: r.redis, nameSpace: "rl2:", syncMs: 20 });
    const a = new A({}) as unknown as Store;
    const b = new B({}) as unknown as Store;
    for (let i = 0; i < 30; i++) await incr(a, "token:t", 60_000);
    for (let i = 0; i < 20; i++) await incr(b, "token:t", 60_000);
    await new Promise((res) => setTimeout(res, 100));
    // An instance hears the others' counts when it next adds its own (within one sync of a request):
    // until then it decides from what it knew, which is how far the shared limit can be overrun.
    expect((await incr(a, "token:t", 60_000)).current).toBe(31);
    await new Promise((res) => setTimeout(res, 100));
    expect((await incr(a, "token:t", 60_000)).current).toBe(52);
    expect((await incr(b, "token:t", 60_000)).current).toBe(51); // 50 when it last synced, + this one
    await new Promise((res) => setTimeout(res, 100));
    // Both have synced since: B knows A's 52nd (and its own 51st), whichever script ran first.
    expect((await incr(b, "token:t", 60_000)).current).toBeGreaterThanOrEqual(53);
    await new Promise((res) => setTimeout(res, 100));
    expect(Number(await r.redis.get("rl2:token:t"))).toBe(54);
  });

  it("starts again from zero when the window ends, and keeps counting while Redis is unreachable", async () => {
    const Store = createBatchedRateLimitStore({ redis: r.redis, nameSpace: "rl3:", syncMs: 20 });
    const store = new Store({}) as unknown as Store;
    for (let i = 0; i < 5; i++) await incr(store, "token:w", 300);
    await new Promise((res) => setTimeout(res, 400));
    const fresh = await incr(store, "token:w", 300);
    expect(fresh.current).toBe(1);
    expect(fresh.ttl).toBeLessThanOrEqual(300);

    const down = {
      defineCommand: () => undefined,
      nexusRateLimitAdd: () => Promise.reject(new Error("down")),
    };
    const Offline = createBatchedRateLimitStore({
      redis: down as unknown as Redis,
      nameSpace: "rl4:",
      syncMs: 10,
    });
    const offline = new Offline({}) as unknown as Store;
    for (let i = 0; i < 3; i++) await incr(offline, "token:o", 60_000);
    await new Promise((res) => setTimeout(res, 50));
    expect((await incr(offline, "token:o", 60_000)).current).toBe(4);
  });
});
