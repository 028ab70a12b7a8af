import { request as httpRequest } from "node:http";
import { CONFIG_SET_COMMAND } from "@nexus/contracts";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry, withAuth } from "./harness.js";

/**
 * Hostile input, generated: every write route and the NATS set command get bodies, media types
 * and query strings that are broken in the ways users and attackers break them. Whatever comes,
 * the answer is a 4xx in the documented error shape, nothing is stored, and the registry stays
 * ready.
 */

const NAMESPACE = "hostile";

/** Strings that Postgres cannot store, and that clients and tools disagree on. */
const badText = fc.constantFrom("x\u0000y", "\u0000", "\ud800", "a\udc00b", "\udbff");
/** Keys refused in every document. */
const badKey = fc.oneof(badText, fc.constantFrom("__proto__", "constructor", "prototype"));
const badString = badText;
const goodKey = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);

/** A JSON object with one hostile part somewhere inside (as key or value). */
const hostileDocument: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(goodKey, { minLength: 0, maxLength: 3 }),
    badKey,
    badText,
    fc.boolean(),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([path, key, text, asKey, filler]) => {
    let node: unknown = asKey ? { [key]: filler } : text;
    for (const key of [...path].reverse()) node = { [key]: node, ok: filler };
    const doc = typeof node === "object" && node !== null && !Array.isArray(node) ? node : { value: node };
    // JSON.stringify keeps lone surrogates as escapes and "__proto__" as a key only when defined as
    // own property; build the text so both survive.
    return JSON.stringify(doc, null, 0);
  });

const deepDocument = fc
  .integer({ min: 65, max: 3_000 })
  .map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);

const hostileYaml = fc.constantFrom(
  ": nokey\n",
  "a: 123456789012345678901234567890\n",
  "__proto__:\n  polluted: 1\n",
  "a:\n  constructor: 1\n",
  "a: !!binary aGVsbG8=\n",
  "a: x\u0000y\n",
  "a: &x [*x]\n",
  "a: 1\na: 2\n",
);
const hostileEnv = fc.constantFrom("A=x\u0000y\n", "__proto__=1\n", "constructor=2\n", "prototype=3\n");
const invalidUtf8 = fc
  .uint8Array({ minLength: 1, maxLength: 4 })
  .map((bytes) => Buffer.concat([Buffer.from('{"a": "'), Buffer.from([0xff, ...bytes]), Buffer.from('"}')]));

interface Attempt {
  method: "PUT" | "PATCH" | "POST";
  url: string;
  contentType: string;
  payload: string | Buffer;
}

const layerTarget = fc.constantFrom(
  `/v1/namespaces/${NAMESPACE}/layers/base`,
  `/v1/namespaces/${NAMESPACE}/layers/staging`,
);

const attempts: fc.Arbitrary<Attempt> = fc.oneof(
  fc.record({
    method: fc.constantFrom("PUT" as const, "PATCH" as const),
    url: layerTarget,
    contentType: fc.constant("application/json"),
    payload: fc.oneof(hostileDocument, deepDocument),
  }),
  fc.record({
    method: fc.constant("PATCH" as const),
    url: layerTarget,
    contentType: fc.constant("application/merge-patch+json"),
    payload: fc.oneof(hostileDocument, deepDocument),
  }),
  fc.record({
    method: fc.constant("PUT" as const),
    url: layerTarget,
    contentType: fc.constant("application/yaml"),
    payload: hostileYaml,
  }),
  fc.record({
    method: fc.constant("PUT" as const),
    url: layerTarget,
    contentType: fc.constantFrom("application/x-env", "text/plain; format=dotenv"),
    payload: hostileEnv,
  }),
  fc.record({
    method: fc.constantFrom("PUT" as const, "PATCH" as const),
    url: layerTarget,
    contentType: fc.constant("application/json"),
    payload: invalidUtf8,
  }),
  fc.record({
    method: fc.constant("PUT" as const),
    url: fc
      .constantFrom("%00", "%C3%28", "ok%00", "%ED%A0%80")
      .map((m) => `/v1/namespaces/${NAMESPACE}/layers/staging?message=${m}`),
    contentType: fc.constant("application/json"),
    payload: fc.constant('{"fine": true}'),
  }),
  fc.record({
    method: fc.constant("PUT" as const),
    url: fc.constant(`/v1/namespaces/${NAMESPACE}/schema`),
    contentType: fc.constant("application/json"),
    payload: fc.oneof(
      deepDocument.map((d) => d.replaceAll('"a"', '"properties":{"x"')),
      fc.integer({ min: 100, max: 3_000 }).map((d) => `${'{"items":'.repeat(d)}{}${"}".repeat(d)}`),
      hostileDocument,
    ),
  }),
  fc.record({
    method: fc.constant("PATCH" as const),
    url: fc.constant(`/v1/namespaces/${NAMESPACE}`),
    contentType: fc.constant("application/json"),
    payload: fc
      .tuple(badKey, badText)
      .map(([k, s]) => JSON.stringify({ description: s, variables: { [k]: s } })),
  }),
  fc.record({
    method: fc.constant("POST" as const),
    url: fc.constant("/v1/namespaces"),
    contentType: fc.constant("application/json"),
    payload: badString.map((s) => JSON.stringify({ name: "fine-name", description: s })),
  }),
  fc.record({
    method: fc.constant("POST" as const),
    url: fc.constant(`/v1/namespaces/${NAMESPACE}/layers/staging/rollback`),
    contentType: fc.constant("application/json"),
    payload: badString.map((s) => JSON.stringify({ revision: 1, message: s })),
  }),
  fc.record({
    method: fc.constant("POST" as const),
    url: fc.constant("/v1/tokens"),
    contentType: fc.constant("application/json"),
    payload: badString.map((s) => JSON.stringify({ name: s, owner: s, grants: ["viewer"] })),
  }),
);

describe("hostile input to every write route and command", () => {
  let h: Harness;
  const counts = async () => {
    const q = async (sql: string) => (await h.db.pool.query(sql)).rows[0].n as number;
    return {
      revisions: await q("SELECT count(*)::int AS n FROM revisions"),
      namespaces: await q("SELECT count(*)::int AS n FROM namespaces"),
      schemas: await q("SELECT count(*)::int AS n FROM schemas"),
      tokens: await q("SELECT count(*)::int AS n FROM api_tokens"),
      outbox: await q("SELECT count(*)::int AS n FROM outbox"),
      description: (await h.db.pool.query("SELECT description FROM namespaces WHERE name = $1", [NAMESPACE]))
        .rows[0].description as string,
    };
  };

  beforeAll(async () => {
    h = await startRegistry();
    expect((await call(h, "POST", "/v1/namespaces", { name: NAMESPACE, description: "calm" })).status).toBe(
      201,
    );
    expect((await call(h, "PUT", `/v1/namespaces/${NAMESPACE}/layers/staging`, { a: 1 })).status).toBe(200);
  });
  afterAll(async () => h?.close());

  it("answers every hostile HTTP request with a 4xx error body and stores nothing", async () => {
    const before = await counts();
    await fc.assert(
      fc.asyncProperty(attempts, async (a) => {
        const res = await h.registry.app.inject({
          method: a.method,
          url: a.url,
          headers: withAuth(h, { "content-type": a.contentType }),
          payload: a.payload,
        });
        const body = res.json() as { error?: { code?: string; requestId?: string } };
        if (res.statusCode < 400 || res.statusCode >= 500 || !body.error?.code || !body.error.requestId) {
          throw new Error(
            `${a.method} ${a.url} (${a.contentType}) answered ${res.statusCode}: ${res.body.slice(0, 300)}`,
          );
        }
        expect(res.headers["x-request-id"]).toBe(body.error.requestId);
      }),
      { numRuns: Number(process.env.BAD_INPUT_RUNS ?? 300) },
    );
    expect(await counts()).toEqual(before);
    expect((await call(h, "GET", "/readyz")).status).toBe(200);
  });

  it("refuses hostile NATS set commands with a 4xx reply and stores nothing", async () => {
    const before = await counts();
    const subject = h.nats.bus.subject(`${CONFIG_SET_COMMAND}.staging.${NAMESPACE}`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostileDocument.map(
            (content) =>
              `{"schemaVersion":1,"namespace":"${NAMESPACE}","layer":"staging","content":${content},"author":"bot"}`,
          ),
          badString.map((s) =>
            JSON.stringify({
              schemaVersion: 1,
              namespace: NAMESPACE,
              layer: "staging",
              content: { a: 2 },
              author: "bot",
              message: s,
            }),
          ),
          invalidUtf8,
          deepDocument,
        ),
        async (payload) => {
          const reply = await h.nats.nc.request(subject, payload, { timeout: 5_000 });
          const answer = reply.json() as { ok: boolean; error?: { statusCode: number; code: string } };
          if (answer.ok || !answer.error || answer.error.statusCode < 400 || answer.error.statusCode >= 500)
            throw new Error(`command answered ${JSON.stringify(answer)}`);
        },
      ),
      { numRuns: Number(process.env.BAD_INPUT_RUNS ?? 150) },
    );
    expect(await counts()).toEqual(before);
  });

  it("answers over-long URLs and headers in the documented error shape", async () => {
    await h.registry.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = h.registry.app.server.address() as { port: number };
    const raw = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path, headers }, (res) => {
          let body = "";
          res.on("data", (d) => {
            body += d;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("error", reject);
        req.end();
      });
    const auth = withAuth(h);
    for (const [path, headers] of [
      [`/v1/namespaces/${"n".repeat(300)}/layers/base`, auth],
      [`/v1/namespaces?after=${"a".repeat(20_000)}`, auth],
      ["/v1/namespaces", { ...auth, "x-big": "b".repeat(20_000) }],
    ] as const) {
      const res = await raw(path, headers);
      expect(res.status, path.slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const body = JSON.parse(res.body) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBeTruthy();
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["referrer-policy"]).toBe("no-referrer");
      expect(res.headers["x-request-id"]).toBe(body.error.requestId);
    }
  });
});
