import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry, withAuth } from "./harness.js";

const NS = "/v1/namespaces/shop";

describe("layers: writes, revisions and optimistic concurrency", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: "shop" });
  });
  afterAll(async () => h?.close());

  it("creates an immutable revision per write with hash, author, message and source", async () => {
    const first = await call(
      h,
      "PUT",
      `${NS}/layers/base?message=initial`,
      { db: { host: "a", port: 5432 } },
      {
        authorization: `Bearer ${await h.tokenFor(["admin"], { owner: "alice" })}`,
      },
    );
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe('"1"');
    expect(first.body).toMatchObject({ revision: 1, previousRevision: 0, changed: true });
    expect(first.body.hash).toMatch(/^[a-f0-9]{64}$/);
    expect(first.body.changedEnvironments.sort()).toEqual(["development", "production", "staging"]);

    const rev = await call(h, "GET", `${NS}/layers/base/revisions/1`);
    expect(rev.body).toMatchObject({
      revision: 1,
      author: "alice",
      message: "initial",
      source: "api",
      layer: "base",
    });
    expect(rev.body.diff).toEqual([{ op: "add", path: "/db", value: { host: "a", port: 5432 } }]);
  });

  it("gives the same hash to the same content whatever the key order", async () => {
    const a = await call(h, "PUT", `${NS}/layers/development`, { x: 1, y: { b: 2, a: 1 } });
    const b = await call(h, "PUT", `${NS}/layers/staging`, { y: { a: 1, b: 2 }, x: 1 });
    expect(a.body.hash).toBe(b.body.hash);
  });

  it("does not create a revision when the content is unchanged", async () => {
    const before = await call(h, "GET", `${NS}/layers/base`);
    const again = await call(h, "PUT", `${NS}/layers/base`, { db: { port: 5432, host: "a" } });
    expect(again.body).toMatchObject({ changed: false, revision: before.body.revision });
    expect((await call(h, "GET", `${NS}/layers/base/revisions`)).body.items).toHaveLength(1);
  });

  it("refuses a stale If-Match with 409 and stores nothing", async () => {
    const head = await call(h, "GET", `${NS}/layers/base`);
    const ok = await call(
      h,
      "PUT",
      `${NS}/layers/base`,
      { db: { host: "b", port: 5432 } },
      { "if-match": head.headers.etag as string },
    );
    expect(ok.status).toBe(200);
    const stale = await call(
      h,
      "PUT",
      `${NS}/layers/base`,
      { db: { host: "c" } },
      { "if-match": head.headers.etag as string },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: "revision_conflict", field: "If-Match" });
    expect(stale.body.error.details.currentRevision).toBe(ok.body.revision);
    expect((await call(h, "GET", `${NS}/layers/base`)).body.content).toEqual({
      db: { host: "b", port: 5432 },
    });
  });

  it("refuses a malformed If-Match", async () => {
    const res = await call(h, "PUT", `${NS}/layers/base`, { a: 1 }, { "if-match": "yesterday" });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe("If-Match");
  });

  it("keeps revision numbers gapless under concurrent writers", async () => {
    const before = (await call(h, "GET", "/v1/namespaces/shop")).body.headRevision;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => call(h, "PUT", `${NS}/layers/production`, { n: i })),
    );
    const history = (await call(h, "GET", `${NS}/layers/production/revisions?limit=100`)).body.items;
    const numbers = history
      .map((r: { revision: number }) => r.revision)
      .sort((a: number, b: number) => a - b);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => numbers[0] + i));
    expect((await call(h, "GET", "/v1/namespaces/shop")).body.headRevision).toBe(before + numbers.length);
  });

  it("never stores a resolution made with variables that changed while the write ran", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "racing", variables: { HOST: "old" } });
    const writes = Array.from({ length: 8 }, (_, i) =>
      call(h, "PUT", "/v1/namespaces/racing/layers/base", { url: "${env:HOST}", n: i }),
    );
    const variables = call(h, "PATCH", "/v1/namespaces/racing", { variables: { HOST: "new" } });
    const results = await Promise.all([...writes, variables]);
    expect(results.map((r) => r.status)).toEqual(Array(9).fill(200));
    for (const env of ["development", "staging", "production"]) {
      const resolved = await call(h, "GET", `/v1/namespaces/racing/environments/${env}/resolved`);
      expect(resolved.body.content.url).toBe("new");
    }
  });

  it("accepts YAML and .env bodies and stores them as JSON", async () => {
    const yaml = await call(
      h,
      "PUT",
      `${NS}/layers/development`,
      "db:\n  host: yaml-host\n  port: 6543\nflags: [a, b]\n",
    );
    expect(yaml.status).toBe(200);
    expect((await call(h, "GET", `${NS}/layers/development`)).body.content).toEqual({
      db: { host: "yaml-host", port: 6543 },
      flags: ["a", "b"],
    });
    const env = await h.registry.app.inject({
      method: "PUT",
      url: `${NS}/layers/staging`,
      headers: withAuth(h, { "content-type": "application/x-env" }),
      payload: 'DB_HOST=env-host\nGREETING="hello world"\n',
    });
    expect(env.statusCode).toBe(200);
    expect((await call(h, "GET", `${NS}/layers/staging`)).body.content).toEqual({
      DB_HOST: "env-host",
      GREETING: "hello world",
    });
  });

  it.each([
    ["malformed YAML", "application/yaml", "a: [1, 2\nb: c", 400, "malformed_body"],
    ["YAML that is not an object", "application/yaml", "- 1\n- 2\n", 400, "content_not_object"],
    ["JSON array", "application/json", "[1,2]", 400, undefined],
    ["unsupported media type", "application/xml", "<a/>", 415, "unsupported_media_type"],
  ])("refuses %s and changes nothing", async (_label, type, payload, status, code) => {
    const before = await call(h, "GET", `${NS}/layers/base`);
    const res = await h.registry.app.inject({
      method: "PUT",
      url: `${NS}/layers/base`,
      headers: withAuth(h, { "content-type": type }),
      payload,
    });
    expect(res.statusCode).toBe(status);
    if (code) expect(res.json().error.code).toBe(code);
    expect((await call(h, "GET", `${NS}/layers/base`)).body.revision).toBe(before.body.revision);
  });

  it("refuses a body over the size limit with 413", async () => {
    const big = { blob: "x".repeat(1024 * 1024 + 10) };
    const res = await call(h, "PUT", `${NS}/layers/base`, big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("body_too_large");
  });

  it("refuses an unknown environment and an unknown namespace", async () => {
    const env = await call(h, "PUT", `${NS}/layers/moon`, { a: 1 });
    expect(env.status).toBe(404);
    expect(env.body.error.code).toBe("environment_not_found");
    const ns = await call(h, "PUT", "/v1/namespaces/ghost/layers/base", { a: 1 });
    expect(ns.status).toBe(404);
    expect(ns.body.error.code).toBe("namespace_not_found");
  });

  it("applies a JSON Merge Patch (null deletes)", async () => {
    await call(h, "PUT", `${NS}/layers/base`, { db: { host: "b", port: 5432 }, keep: true, drop: 1 });
    const res = await h.registry.app.inject({
      method: "PATCH",
      url: `${NS}/layers/base`,
      headers: withAuth(h, { "content-type": "application/merge-patch+json" }),
      payload: JSON.stringify({ db: { port: 6000 }, drop: null }),
    });
    expect(res.statusCode).toBe(200);
    expect((await call(h, "GET", `${NS}/layers/base`)).body.content).toEqual({
      db: { host: "b", port: 6000 },
      keep: true,
    });
  });
  it("stores large documents lz4-compressed where the server has lz4, and a resolved head of a few KB inline", async () => {
    const lz4 = await h.db.pool.query(
      "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)",
    );
    await call(h, "POST", "/v1/namespaces", { name: "big" });
    // ~20 KB: over the page a resolved head may fill before it is compressed.
    const big = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`key${i}`, `value ${i} `.repeat(6)]),
    );
    expect((await call(h, "PUT", "/v1/namespaces/big/layers/base", big)).status).toBe(200);
    const stored = await h.db.pool.query<{ body: string | null; content: string | null }>(
      `SELECT pg_column_compression(h.body) AS body, pg_column_compression(l.content) AS content
         FROM resolved_heads h JOIN layers l ON l.namespace = h.namespace
        WHERE h.namespace = 'big' AND h.environment = 'production' AND l.layer = 'base'`,
    );
    const expected = lz4.rowCount ? "lz4" : "pglz";
    expect(stored.rows[0]).toEqual({ body: expected, content: expected });

    // ~3 KB, rewritten on every change: kept as it is, neither compressed nor moved out of line.
    await call(h, "POST", "/v1/namespaces", { name: "mid" });
    const mid = Object.fromEntries(
      Array.from({ length: 45 }, (_, i) => [`key${i}`, `value ${i} `.repeat(6)]),
    );
    expect((await call(h, "PUT", "/v1/namespaces/mid/layers/base", mid)).status).toBe(200);
    const head = await h.db.pool.query<{ compression: string | null; bytes: number }>(
      `SELECT pg_column_compression(body) AS compression, octet_length(body) AS bytes
         FROM resolved_heads WHERE namespace = 'mid' AND environment = 'production'`,
    );
    expect(head.rows[0]!.bytes).toBeGreaterThan(2_500);
    expect(head.rows[0]!.compression).toBeNull();
  });
});
