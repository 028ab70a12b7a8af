import { createLogger } from "@nexus/kit";
import { TEST_REDIS_URL } from "@nexus/test-fixtures";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type RegistryApp } from "../../src/app.js";
import { call, type Harness, REGISTRY_SCHEMA, startRegistry, withAuth } from "./harness.js";

/**
 * Two registry instances on the same Postgres, NATS and Redis, each with its in-process cache:
 * a write on one must reach readers of the other.
 */
describe("several instances: in-process caches follow each other's writes", () => {
  let h: Harness;
  let second: RegistryApp;

  beforeAll(async () => {
    h = await startRegistry();
    second = await buildApp({
      logger: createLogger({ service: "config-registry-second", level: "silent" }),
      pool: h.db.pool,
      redis: h.redis.redis,
      nc: h.nats.nc,
      bus: h.nats.bus,
      auth: { tokenKey: h.tokenKey },
      config: {
        databaseUrl: h.db.url,
        schema: REGISTRY_SCHEMA,
        defaultEnvironments: ["development", "staging", "production"],
        cacheTtlSeconds: 60,
        memoryCacheTtlMs: 60_000, // long: only the event may evict it within this test
        bodyLimit: 1024 * 1024,
        outboxRelay: false, // the first instance holds the relay
      },
    });
    await second.workers.start();
    await second.app.ready();
    await call(h, "POST", "/v1/namespaces", { name: "shared" });
  });

  afterAll(async () => {
    await second.app.close();
    await second.workers.stop();
    await h.close();
  });

  /** Redis `GET`s of the production document's cache key from now on, as the server runs them. */
  const countLookups = async () => {
    const key = `${h.redis.keyPrefix}resolved:shared:production`;
    const monitor = await new Redis(TEST_REDIS_URL).monitor();
    const counter = { lookups: 0, stop: () => monitor.disconnect() };
    monitor.on("monitor", (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === "get" && args[1] === key) counter.lookups++;
    });
    return counter;
  };

  const readOnSecond = async (headers: Record<string, string> = {}) => {
    const res = await second.app.inject({
      method: "GET",
      url: "/v1/namespaces/shared/environments/production/resolved",
      headers: withAuth(h, headers),
    });
    return {
      status: res.statusCode,
      revision: Number(res.headers["nexus-revision"]),
      etag: res.headers.etag,
    };
  };

  it("answers a conditional read with the other instance's write at once, and evicts on its event", async () => {
    const first = await call(h, "PUT", "/v1/namespaces/shared/layers/base", { level: 1 });
    expect(first.status).toBe(200);
    await expect
      .poll(async () => (await readOnSecond()).revision, { timeout: 5_000 })
      .toBe(first.body.revision);
    const held = await readOnSecond(); // now in the second instance's memory
    expect(held.status).toBe(200);

    const next = await call(h, "PUT", "/v1/namespaces/shared/layers/base", { level: 2 });
    // A client that heard about the change asks with the version it holds: never answered from memory.
    const conditional = await readOnSecond({ "if-none-match": String(held.etag) });
    expect(conditional.status).toBe(200);
    expect(conditional.revision).toBe(next.body.revision);
    // A plain read follows once `config.changed` reaches the second instance.
    await expect
      .poll(async () => (await readOnSecond()).revision, { timeout: 5_000 })
      .toBe(next.body.revision);
  });

  it("answers a conditional read from memory when it names the version held there, and only then", async () => {
    const write = await call(h, "PUT", "/v1/namespaces/shared/layers/base", { level: 4 });
    await expect
      .poll(async () => (await readOnSecond()).revision, { timeout: 5_000 })
      .toBe(write.body.revision);
    const held = await readOnSecond(); // in the second instance's memory
    const hash = String(held.etag).replaceAll('"', "");
    const counter = await countLookups();
    try {
      const awaited = await readOnSecond({
        "if-none-match": '"older"',
        "nexus-awaited": `${write.body.revision}:${hash}`,
      });
      expect(awaited).toMatchObject({ status: 200, revision: write.body.revision, etag: held.etag });
      await h.redis.redis.ping();
      // Another version than the one held (here: another hash): past memory, to Redis.
      const other = await readOnSecond({
        "if-none-match": '"older"',
        "nexus-awaited": `${write.body.revision}:${"0".repeat(64)}`,
      });
      expect(other).toMatchObject({ status: 200, revision: write.body.revision });
      await h.redis.redis.ping();
      await expect.poll(() => counter.lookups).toBe(1);
    } finally {
      counter.stop();
    }
    for (const url of [
      "/v1/namespaces/shared/environments/production/resolved",
      `/v1/namespaces/shared/environments/production/resolved?revision=${write.body.revision}`,
    ]) {
      for (const bad of ["7", `x:${hash}`, `1:${hash.toUpperCase()}`, `01:${hash}`]) {
        const res = await second.app.inject({
          method: "GET",
          url,
          headers: withAuth(h, { "if-none-match": '"older"', "nexus-awaited": bad }),
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ error: { code: "invalid_header", field: "nexus-awaited" } });
      }
    }
  });

  it("answers the announced version from Postgres while Redis still holds the one before", async () => {
    const key = "resolved:shared:production"; // the client adds the run's prefix
    const before = await call(h, "PUT", "/v1/namespaces/shared/layers/base", { level: 5 });
    const stale = await h.redis.redis.call("GET", key);
    expect(stale).toBeTruthy();
    const write = await call(h, "PUT", "/v1/namespaces/shared/layers/base", { level: 6 });
    const announced = (await call(h, "GET", "/v1/namespaces/shared/environments/production/resolved"))
      .body as { hash: string };
    // The writer's event leaves while it brings Redis up to date: here Redis has not caught up yet.
    await h.redis.redis.call("SET", key, stale as string);
    try {
      const lagging = await readOnSecond({ "if-none-match": '"older"' });
      expect(lagging.revision).toBe(before.body.revision);
      const awaited = await readOnSecond({
        "if-none-match": '"older"',
        "nexus-awaited": `${write.body.revision}:${announced.hash}`,
      });
      expect(awaited).toMatchObject({ status: 200, revision: write.body.revision });
    } finally {
      await h.redis.redis.call("DEL", key);
    }
  });

  it("answers a burst of conditional reads of one document with one Redis lookup", async () => {
    const write = await call(h, "PUT", "/v1/namespaces/shared/layers/base", { level: 3 });
    const counter = await countLookups();
    try {
      const reads = await Promise.all(
        Array.from({ length: 50 }, () => readOnSecond({ "if-none-match": '"stale"' })),
      );
      expect(reads.every((r) => r.status === 200 && r.revision === write.body.revision)).toBe(true);
      // MONITOR reports commands as the server runs them; a PING after the reads flushes the order.
      await h.redis.redis.ping();
      await expect.poll(() => counter.lookups).toBeGreaterThan(0);
      expect(counter.lookups).toBeLessThan(10);
    } finally {
      counter.stop();
    }
  });
});
