import { randomBytes } from "node:crypto";
import { createRedis, type Redis } from "@nexus/kit";
import { testConfig } from "./config.js";

export const TEST_REDIS_URL = testConfig.redisUrl;

export interface TestRedis {
  redis: Redis;
  url: string;
  keyPrefix: string;
  /** Delete every key under this test's prefix and disconnect. */
  cleanup(): Promise<void>;
}

/** A Redis client whose keys all live under a unique prefix, so tests never see each other. */
export async function createTestRedis(): Promise<TestRedis> {
  const keyPrefix = `nexus-test:${randomBytes(6).toString("hex")}:`;
  const redis = createRedis({ url: TEST_REDIS_URL, keyPrefix });
  await waitReady(redis);
  return {
    redis,
    url: TEST_REDIS_URL,
    keyPrefix,
    async cleanup() {
      await deleteByPrefix(redis, keyPrefix);
      redis.disconnect();
    },
  };
}

async function waitReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis at ${TEST_REDIS_URL} is not reachable`)), 5_000);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function deleteByPrefix(redis: Redis, keyPrefix: string): Promise<void> {
  // SCAN patterns are not prefixed by ioredis, the returned keys are full names.
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  } while (cursor !== "0");
}
