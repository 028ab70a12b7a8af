import { createLogger } from "@nexus/kit";
import { Client } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createResolveCache } from "../../src/resolve/resolve-cache.js";
import { createResolveMemoryCache } from "../../src/resolve/resolve-memory-cache.js";
import { call, type Harness, startRegistry, withAuth } from "./harness.js";

const resolved = (ns: string, env: string, query = "") =>
  `/v1/namespaces/${ns}/environments/${env}/resolved${query}`;

describe("resolved configuration", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: "db-shared", variables: { HOST_SUFFIX: "internal" } });
    await call(h, "PUT", "/v1/namespaces/db-shared/layers/base", {
      host: "db.${env:HOST_SUFFIX}",
      port: 5432,
    });
    await call(h, "PUT", "/v1/namespaces/db-shared/layers/production", {
      host: "prod-db.${env:HOST_SUFFIX}",
    });
    await call(h, "POST", "/v1/namespaces", { name: "orders", variables: { REGION: "eu-west-1" } });
    await call(h, "PUT", "/v1/namespaces/orders/layers/base", {
      region: "${env:REGION}",
      database: { host: "${ref:db-shared:host}", port: "${ref:db-shared:port}", pool: 10, ssl: false },
      url: "postgres://${ref:database.host}:${ref:database.port}/orders",
      legacy: { enabled: true },
    });
    await call(h, "PUT", "/v1/namespaces/orders/layers/production", {
      database: { pool: 40, ssl: true },
      legacy: null,
    });
  });
  afterAll(async () => h?.close());

  it("merges base and overlay (null deletes) and resolves env, local and cross-namespace references", async () => {
    const res = await call(h, "GET", resolved("orders", "production"));
    expect(res.status).toBe(200);
    expect(res.body.content).toEqual({
      region: "eu-west-1",
      database: { host: "prod-db.internal", port: 5432, pool: 40, ssl: true },
      url: "postgres://prod-db.internal:5432/orders",
    });
    expect(res.headers.etag).toBe(`"${res.body.hash}"`);
    expect(Number(res.headers["nexus-revision"])).toBe(res.body.revision);
    const staging = await call(h, "GET", resolved("orders", "staging"));
    expect(staging.body.content.database).toEqual({ host: "db.internal", port: 5432, pool: 10, ssl: false });
    expect(staging.body.content.legacy).toEqual({ enabled: true });
  });

  it("answers If-None-Match with 304", async () => {
    const first = await call(h, "GET", resolved("orders", "staging"));
    const second = await h.registry.app.inject({
      method: "GET",
      url: resolved("orders", "staging"),
      headers: withAuth(h, { "if-none-match": first.headers.etag as string }),
    });
    expect(second.statusCode).toBe(304);
    expect(second.body).toBe("");
    // A 304 has no body, so it carries no Content-Length: a client that reads one ("null", 4 bytes)
    // closes the keep-alive connection after it and reconnects for the next read.
    expect(second.headers["content-length"]).toBeUndefined();
  });

  it("keeps a client's connection open across 304s", async () => {
    const address = await h.registry.app.listen({ host: "127.0.0.1", port: 0 });
    const client = new Client(address);
    let connects = 0;
    client.on("connect", () => connects++);
    try {
      const read = async (etag?: string) => {
        const res = await client.request({
          method: "GET",
          path: resolved("orders", "staging"),
          headers: withAuth(h, etag ? { "if-none-match": etag } : {}),
        });
        await res.body.text();
        return res;
      };
      const first = await read();
      expect(first.statusCode).toBe(200);
      for (let i = 0; i < 3; i++) expect((await read(first.headers.etag as string)).statusCode).toBe(304);
      expect((await read()).statusCode).toBe(200);
      expect(connects).toBe(1);
    } finally {
      await client.close();
    }
  });

  it("explains where each value came from", async () => {
    const res = await call(h, "GET", resolved("orders", "production", "?explain=true"));
    expect(res.status).toBe(200);
    expect(res.body.explain["/database/pool"]).toMatchObject({ layer: "production", value: 40 });
    expect(res.body.explain["/database/port"]).toMatchObject({ layer: "base", value: 5432 });
    expect(res.body.explain["/region"].layer).toBe("base");
    expect(res.body.explain["/legacy/enabled"]).toBeUndefined();
  });

  it("re-resolves dependents when a referenced namespace changes, and invalidates their cache", async () => {
    const before = await call(h, "GET", resolved("orders", "staging"));
    await call(
      h,
      "PATCH",
      "/v1/namespaces/db-shared/layers/base",
      { port: 6432 },
      { "content-type": "application/merge-patch+json" },
    );
    const after = await call(h, "GET", resolved("orders", "staging"));
    expect(after.body.content.database.port).toBe(6432);
    expect(after.body.hash).not.toBe(before.body.hash);
  });

  it("refuses a write that breaks a reference another namespace depends on", async () => {
    const res = await call(h, "PUT", "/v1/namespaces/db-shared/layers/base", { port: 1 });
    expect(res.status).toBe(422);
    expect(res.body.error.details.namespace).toBe("orders");
    expect((await call(h, "GET", "/v1/namespaces/db-shared/layers/base")).body.content.host).toBeDefined();
  });

  it("refuses cycles and missing references at write time with the path", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "loops" });
    const cycle = await call(h, "PUT", "/v1/namespaces/loops/layers/base", { a: "${ref:b}", b: "${ref:a}" });
    expect(cycle.status).toBe(422);
    expect(cycle.body.error.code).toBe("reference_cycle");
    expect(["/a", "/b"]).toContain(cycle.body.error.field);
    const missing = await call(h, "PUT", "/v1/namespaces/loops/layers/base", {
      a: { b: "${ref:nothing.here}" },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe("reference_missing");
    expect(missing.body.error.field).toBe("/a/b");
    const variable = await call(h, "PUT", "/v1/namespaces/loops/layers/base", { a: "${env:NOPE}" });
    expect(variable.body.error.code).toBe("variable_missing");
    const otherNs = await call(h, "PUT", "/v1/namespaces/loops/layers/base", { a: "${ref:ghost-ns:x}" });
    expect(otherNs.body.error.code).toBe("namespace_missing");
    expect((await call(h, "GET", "/v1/namespaces/loops")).body.headRevision).toBe(0);
  });

  it("refuses a cross-namespace cycle", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "ping" });
    await call(h, "POST", "/v1/namespaces", { name: "pong" });
    expect((await call(h, "PUT", "/v1/namespaces/ping/layers/base", { v: "${ref:pong:v}" })).status).toBe(
      422,
    );
    expect((await call(h, "PUT", "/v1/namespaces/pong/layers/base", { v: 1 })).status).toBe(200);
    expect((await call(h, "PUT", "/v1/namespaces/ping/layers/base", { v: "${ref:pong:v}" })).status).toBe(
      200,
    );
    const cycle = await call(h, "PUT", "/v1/namespaces/pong/layers/base", { v: "${ref:ping:v}" });
    expect(cycle.status).toBe(422);
    expect(cycle.body.error.code).toBe("reference_cycle");
  });

  it("changing namespace variables re-resolves", async () => {
    const res = await call(h, "PATCH", "/v1/namespaces/orders", { variables: { REGION: "us-east-1" } });
    expect(res.status).toBe(200);
    expect((await call(h, "GET", resolved("orders", "development"))).body.content.region).toBe("us-east-1");
    const broken = await call(h, "PATCH", "/v1/namespaces/orders", { variables: {} });
    expect(broken.status).toBe(422);
    expect(broken.body.error.code).toBe("variable_missing");
  });

  it("404s an unknown environment or namespace", async () => {
    expect((await call(h, "GET", resolved("orders", "moon"))).body.error.code).toBe("environment_not_found");
    expect((await call(h, "GET", resolved("nobody", "production"))).body.error.code).toBe(
      "namespace_not_found",
    );
  });

  /** The registry's cache on this test's Redis, as a write path uses it. */
  const cacheOnRedis = (memory?: ReturnType<typeof createResolveMemoryCache>) =>
    createResolveCache({
      redis: h.redis.redis,
      logger: createLogger({ service: "cache-test", level: "silent" }),
      ttlSeconds: 60,
      ...(memory ? { memory } : {}),
    });

  it("does not let an earlier write's cache update replace a later one's", async () => {
    const cache = cacheOnRedis();
    const head = (revision: number, hash: string) => ({
      namespace: "orders",
      environment: "staging",
      revision,
      hash,
      body: `{"revision":${revision}}`,
    });
    await cache.replace([head(900, "later")]);
    await cache.replace([head(899, "earlier")]); // one write, its answer late
    await cache.replace([head(899, "earlier"), head(899, "earlier-too")]); // several heads at once
    const raw = await h.redis.redis.get("resolved:orders:staging");
    expect(raw?.startsWith("900:0 later ")).toBe(true);
    await cache.replace([head(901, "next")]);
    expect((await h.redis.redis.get("resolved:orders:staging"))?.startsWith("901:0 next ")).toBe(true);
    await cache.evict("orders", ["staging"]);
  });

  it("replaces hundreds of heads at once (several script calls), each kept only if not older", async () => {
    const cache = cacheOnRedis();
    // 600 readers' heads, more than one script call takes; the 300th was already replaced by a
    // later commit, which must stay.
    const head = (i: number, version: number) => ({
      namespace: `many-${i}`,
      environment: "production",
      revision: 3,
      version,
      hash: `h${i}-${version}`,
      body: `{"reader":${i}}`,
    });
    await cache.replace([head(300, 99)]);
    await cache.replace(Array.from({ length: 600 }, (_, i) => head(i, 10)));
    const stored = await h.redis.redis.mget(
      Array.from({ length: 600 }, (_, i) => `resolved:many-${i}:production`),
    );
    expect(stored.filter((v) => v?.startsWith("3:10 ")).length).toBe(599);
    expect(stored[300]?.startsWith("3:99 h300-99 ")).toBe(true);
    expect(stored[599]).toBe('3:10 h599-10 {"reader":599}');
    for (let i = 0; i < 600; i++) await cache.evict(`many-${i}`, ["production"]);
  });

  it("orders cache updates of one revision by commit version (a re-resolution keeps the revision)", async () => {
    const memory = createResolveMemoryCache({ ttlMs: 60_000, maxEntries: 100 });
    const cache = cacheOnRedis(memory);
    const head = (version: number, hash: string) => ({
      namespace: "orders",
      environment: "development",
      revision: 7,
      version,
      hash,
      body: `{"hash":"${hash}"}`,
    });
    // An entry written by an instance from before versions: a versioned write replaces it.
    await h.redis.redis.set("resolved:orders:development", '7 old {"hash":"old"}');
    expect((await cache.get("orders", "development"))?.version).toBeUndefined();
    await cache.replace([head(41, "first")]);
    await cache.replace([head(42, "second")]);
    await cache.replace([head(41, "first")]); // the first write's update, arriving last
    await cache.replace([head(40, "zeroth"), head(41, "first")]); // several heads at once
    expect(await cache.get("orders", "development")).toMatchObject({
      version: 42,
      hash: "second",
      revision: 7,
    });
    expect(memory.get("orders", "development")).toMatchObject({ version: 42, hash: "second" });
    await cache.evict("orders", ["development"]);
  });

  it("gives a document re-resolved by a change elsewhere a later version with the same revision", async () => {
    expect((await call(h, "POST", "/v1/namespaces", { name: "ver-upstream" })).status).toBe(201);
    expect((await call(h, "POST", "/v1/namespaces", { name: "ver-reader" })).status).toBe(201);
    await call(h, "PUT", "/v1/namespaces/ver-upstream/layers/base", { host: "a" });
    await call(h, "PUT", "/v1/namespaces/ver-reader/layers/base", { host: "${ref:ver-upstream:host}" });
    const stored = async () =>
      (
        await h.db.pool.query<{ revision: number; version: string; hash: string }>(
          "SELECT revision, version, hash FROM resolved_heads WHERE namespace = 'ver-reader' AND environment = 'production'",
        )
      ).rows[0]!;
    const before = await stored();
    await call(h, "PUT", "/v1/namespaces/ver-upstream/layers/base", { host: "b" });
    const after = await stored();
    expect(after.revision).toBe(before.revision);
    expect(after.hash).not.toBe(before.hash);
    expect(Number(after.version)).toBeGreaterThan(Number(before.version));
    // The cache holds what the later commit stored, with its version.
    const cached = await h.redis.redis.get("resolved:ver-reader:production");
    expect(cached?.startsWith(`${after.revision}:${after.version} ${after.hash} `)).toBe(true);
  });

  it("serves reads from Redis, and from Postgres when the cached copy is gone", async () => {
    const first = await call(h, "GET", resolved("orders", "production"));
    const keys = await h.redis.redis.keys(`${h.redis.keyPrefix}resolved:orders:*`);
    expect(keys.length).toBeGreaterThan(0);
    await h.redis.redis.del("resolved:orders:production");
    const second = await call(h, "GET", resolved("orders", "production"));
    expect(second.raw).toBe(first.raw);
  });
});

describe("resolved configuration without Redis", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry({ withoutRedis: true });
  });
  afterAll(async () => h?.close());

  it("still serves reads from Postgres and reports Redis degraded on /readyz", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "no-cache" });
    await call(h, "PUT", "/v1/namespaces/no-cache/layers/base", { a: 1 });
    const res = await call(h, "GET", resolved("no-cache", "production"));
    expect(res.status).toBe(200);
    expect(res.body.content).toEqual({ a: 1 });
    const ready = await call(h, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("degraded");
    expect(ready.body.checks.redis.status).toBe("down");
    expect(ready.body.checks.postgres.status).toBe("up");
  });
});
