import { createRedis, type Redis } from "@nexus/kit";
import { TEST_REDIS_URL } from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";

/** Socket writes while commands issued from separate I/O callbacks of one loop turn run. */
async function socketWrites(redis: Redis): Promise<number> {
  if (redis.status !== "ready") await new Promise((r) => redis.once("ready", r));
  const stream = (redis as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
  const original = stream.write.bind(stream);
  let writes = 0;
  stream.write = (...a: unknown[]) => {
    writes++;
    return original(...a);
  };
  try {
    // As concurrent requests do: each command from its own callback, in the same turn.
    await new Promise<void>((resolve, reject) => {
      let left = 4;
      for (let i = 0; i < 4; i++)
        setImmediate(() =>
          redis.get(`k${i}`).then(() => {
            if (--left === 0) resolve();
          }, reject),
        );
    });
  } finally {
    stream.write = original;
  }
  return writes;
}

describe("createRedis autoPipelining (real Redis)", () => {
  const clients: Redis[] = [];
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  it("sends the commands of one event-loop turn in one socket write", async () => {
    const piped = createRedis({ url: TEST_REDIS_URL, keyPrefix: "nexus-test:pipe:", autoPipelining: true });
    const plain = createRedis({ url: TEST_REDIS_URL, keyPrefix: "nexus-test:pipe:" });
    clients.push(piped, plain);
    expect(await socketWrites(plain)).toBe(4);
    expect(await socketWrites(piped)).toBe(1);
  });
});
