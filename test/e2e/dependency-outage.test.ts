import {
  createTestBus,
  createTestDatabase,
  createTestRedis,
  startTcpProxy,
  TEST_NATS_URL,
  type TestBus,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import { type RegistryProcess, registryAuth, startRegistryProcess } from "../support/registry-process.js";

/**
 * Postgres and NATS behind TCP pass-throughs, so this test alone sees them go away: a write answers
 * 503 naming the dependency (never a 500), cached reads keep answering, and a registry started
 * while they are down waits for them, says so in its log, and comes up by itself.
 */
describe("dependency outages", () => {
  let db: TestDatabase;
  let nats: TestBus;
  let redis: TestRedis;
  let pg: Awaited<ReturnType<typeof startTcpProxy>>;
  let natsProxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let proc: RegistryProcess | undefined;
  const auth = registryAuth();
  const env = () => {
    const url = new URL(db.url);
    url.port = String(pg.port);
    url.hostname = "127.0.0.1";
    return {
      ...auth.env,
      DATABASE_URL: url.toString(),
      DATABASE_SCHEMA: REGISTRY_SCHEMA,
      NATS_URL: `nats://127.0.0.1:${natsProxy.port}`,
      NATS_PREFIX: nats.prefix,
      REDIS_KEY_PREFIX: redis.keyPrefix,
    };
  };
  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${proc!.url}${path}`, {
      method,
      headers: { ...auth.headers, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      createTestBus(),
      createTestRedis(),
    ]);
    pg = await startTcpProxy(Number(new URL(db.url).port || 5432), new URL(db.url).hostname || "127.0.0.1");
    natsProxy = await startTcpProxy(Number(new URL(TEST_NATS_URL).port || 4222));
  });
  afterAll(async () => {
    await proc?.stop();
    await Promise.allSettled([pg?.close(), natsProxy?.close()]);
    await Promise.allSettled([db?.drop(), nats?.cleanup(), redis?.cleanup()]);
  });

  it("starts while Postgres and NATS are down, waits and says so, and comes up when they do", async () => {
    await pg.down();
    await natsProxy.down();
    let log = "";
    const said = (pattern: RegExp) =>
      expect.poll(() => log, { timeout: 20_000, interval: 100 }).toMatch(pattern);
    const starting = startRegistryProcess(
      { ...env(), LOG_LEVEL: "info" },
      {
        onOutput: (text) => {
          log += text;
        },
      },
    );
    await said(/Postgres is not reachable at .*not ready, trying again/);
    await new Promise((r) => setTimeout(r, 1_500)); // still waiting, not exited
    await pg.up();
    await said(/database schema is up to date/);
    await said(/NATS is not reachable at .*not ready, trying again/);
    expect(log).not.toMatch(/Server listening/);
    await natsProxy.up();
    proc = await starting; // throws if the process exited during start-up
    const created = await send("POST", "/v1/namespaces", { name: "outage" });
    expect(created.status).toBe(201);
  }, 60_000);

  it("answers a write 503 postgres_unavailable with Retry-After while Postgres is down, and serves cached reads", async () => {
    expect((await send("PUT", "/v1/namespaces/outage/layers/production", { pool: 5 })).status).toBe(200);
    const warm = await send("GET", "/v1/namespaces/outage/environments/production/resolved");
    expect(warm.status).toBe(200);

    await pg.down();
    const write = await send("PUT", "/v1/namespaces/outage/layers/production", { pool: 6 });
    expect(write.status).toBe(503);
    expect(write.headers.get("retry-after")).toBe("5");
    expect(write.headers.get("x-request-id")).toBeTruthy();
    const body = (await write.json()) as { error: { code: string; details: { dependency: string } } };
    expect(body.error.code).toBe("postgres_unavailable");
    expect(body.error.details.dependency).toBe("postgres");
    const layer = await send("GET", "/v1/namespaces/outage/layers/production");
    expect(layer.status).toBe(503);
    const cached = await send("GET", "/v1/namespaces/outage/environments/production/resolved");
    expect(cached.status).toBe(200);
    expect(((await cached.json()) as { content: { pool: number } }).content.pool).toBe(5);

    await pg.up();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await send("PUT", "/v1/namespaces/outage/layers/production", { pool: 7 })).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    const after = await send("GET", "/v1/namespaces/outage/environments/production/resolved");
    expect(((await after.json()) as { content: { pool: number } }).content.pool).toBe(7);
  }, 60_000);
});
