import { createFailedAuthLimiter, createLogger } from "@nexus/kit";
import { startTestIssuer, type TestIssuer } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type RegistryApp } from "../../src/app.js";
import { call, type Harness, REGISTRY_SCHEMA, startRegistry } from "./harness.js";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("authentication, scopes and the audit log", () => {
  let h: Harness;
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const logger = createLogger({ service: "access-test", level: "silent" });
    h = await startRegistry({ oidc: issuer.authenticator(logger) });
    for (const name of ["pay-api", "pay-web", "shop"]) {
      expect((await call(h, "POST", "/v1/namespaces", { name })).status).toBe(201);
      await call(h, "PUT", `/v1/namespaces/${name}/layers/base`, { name });
    }
  });
  afterAll(async () => {
    await h?.close();
    await issuer?.close();
  });

  it("lists only the namespaces a token may see, and says who it is", async () => {
    const token = await h.tokenFor(["editor:pay-*:staging"], { owner: "dana" });
    const list = await call(h, "GET", "/v1/namespaces", undefined, bearer(token));
    expect(list.body.items.map((n: { name: string }) => n.name)).toEqual(["pay-api", "pay-web"]);
    const who = await call(h, "GET", "/v1/whoami", undefined, bearer(token));
    expect(who.body).toMatchObject({ name: "dana", kind: "token" });
    expect(who.body.grants).toEqual([{ role: "editor", namespaces: ["pay-*"], environments: ["staging"] }]);
  });

  it("lets an editor write only the environments it holds; the base layer needs all of them", async () => {
    const token = await h.tokenFor(["editor:pay-*:staging"]);
    const staging = await call(h, "PUT", "/v1/namespaces/pay-api/layers/staging", { x: 1 }, bearer(token));
    expect(staging.status).toBe(200);
    const prod = await call(h, "PUT", "/v1/namespaces/pay-api/layers/production", { x: 1 }, bearer(token));
    expect(prod.status).toBe(403);
    expect(prod.body.error.message).toContain("editor");
    const base = await call(h, "PUT", "/v1/namespaces/pay-api/layers/base", { x: 1 }, bearer(token));
    expect(base.status).toBe(403);
    const other = await call(h, "PUT", "/v1/namespaces/shop/layers/staging", { x: 1 }, bearer(token));
    expect(other.status).toBe(404); // may not even know 'shop' exists
    const created = await call(h, "POST", "/v1/namespaces", { name: "pay-new" }, bearer(token));
    expect(created.status).toBe(403); // creating needs the editor role on every environment
    expect((await call(h, "GET", "/v1/namespaces/pay-new")).status).toBe(404);
    expect((await call(h, "GET", "/v1/namespaces/pay-api/layers/production")).body.revision).toBe(0);
  });

  it("accepts OIDC bearer JWTs from the configured issuer, with grants from the roles claim", async () => {
    const jwt = await issuer.token(["viewer:shop:production"], { subject: "erin" });
    const ok = await call(
      h,
      "GET",
      "/v1/namespaces/shop/environments/production/resolved",
      undefined,
      bearer(jwt),
    );
    expect(ok.status).toBe(200);
    const staging = await call(
      h,
      "GET",
      "/v1/namespaces/shop/environments/staging/resolved",
      undefined,
      bearer(jwt),
    );
    expect(staging.status).toBe(403);
    const write = await call(h, "PUT", "/v1/namespaces/shop/layers/production", { y: 1 }, bearer(jwt));
    expect(write.status).toBe(403);
  });

  it("refuses an expired JWT, a JWT from another issuer, and a forged API token", async () => {
    const expired = await issuer.token(["admin"], { expiresIn: -120 });
    const res = await call(h, "GET", "/v1/whoami", undefined, bearer(expired));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("token_expired");

    const stranger = await startTestIssuer();
    try {
      const foreign = await stranger.token(["admin"]);
      expect((await call(h, "GET", "/v1/whoami", undefined, bearer(foreign))).body.error.code).toBe(
        "invalid_token",
      );
    } finally {
      await stranger.close();
    }
    const real = h.adminToken;
    const forged = `${real.slice(0, -1)}${real.endsWith("A") ? "B" : "A"}`;
    const refused = await call(h, "GET", "/v1/whoami", undefined, bearer(forged));
    expect(refused.status).toBe(401);
    expect(JSON.stringify(refused.body)).not.toContain(forged);
  });

  it("refuses a revoked token at once, on this instance and on another", async () => {
    const second: RegistryApp = await buildApp({
      logger: createLogger({ service: "second", level: "silent" }),
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
        bodyLimit: 1024 * 1024,
        outboxRelay: false,
      },
    });
    await second.workers.start();
    try {
      const token = await h.tokenFor(["viewer"], { name: "to-revoke" });
      const onSecond = () =>
        second.app
          .inject({ method: "GET", url: "/v1/whoami", headers: bearer(token) })
          .then((r) => r.statusCode);
      expect(await onSecond()).toBe(200); // now cached on the second instance
      const id = (await call(h, "GET", "/v1/whoami", undefined, bearer(token))).body.subject.replace(
        "token:",
        "",
      );
      const revoked = await call(h, "DELETE", `/v1/tokens/${id}`);
      expect(revoked.body.status).toBe("revoked");
      const again = await call(h, "GET", "/v1/whoami", undefined, bearer(token));
      expect(again.status).toBe(401);
      expect(again.body.error.code).toBe("token_revoked");
      await expect.poll(onSecond, { timeout: 2_000, interval: 20 }).toBe(401);
    } finally {
      await second.app.close();
      await second.workers.stop();
    }
  });

  it("refuses an expired API token", async () => {
    const token = await h.tokenFor(["viewer"], { name: "short-lived", expiresInDays: 1 });
    await h.db.pool.query(
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short-lived'",
    );
    const res = await call(h, "GET", "/v1/whoami", undefined, bearer(token));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("token_expired");
  });

  it("records writes, denials and token changes in an append-only, queryable audit log", async () => {
    const viewer = await h.tokenFor(["viewer:shop"], { owner: "frank" });
    await call(h, "PUT", "/v1/namespaces/shop/layers/production", { z: 1 }, bearer(viewer)); // denied
    await call(h, "PATCH", "/v1/namespaces/shop", { description: "audited" }); // allowed
    const actor = (await call(h, "GET", "/v1/whoami", undefined, bearer(viewer))).body.subject;
    const denied = await call(h, "GET", `/v1/audit?outcome=denied&actor=${actor}`);
    expect(denied.status).toBe(200);
    const entry = denied.body.entries.find(
      (e: { action: string; resource: string }) =>
        e.action.startsWith("PUT") && e.resource === "/v1/namespaces/shop/layers/production",
    );
    expect(entry).toMatchObject({
      outcome: "denied",
      statusCode: 403,
      resource: "/v1/namespaces/shop/layers/production",
      details: { reason: "needs editor", actorName: "frank" },
    });
    expect(entry.actor).toMatch(/^token:[0-9a-f]{16}$/);
    expect(JSON.stringify(denied.body)).not.toContain(viewer);
    expect(entry.requestId).toBeTruthy();
    const allowed = await call(h, "GET", "/v1/audit?outcome=allowed&resource=/v1/namespaces/shop");
    expect(
      allowed.body.entries.some((e: { action: string }) => e.action === "PATCH /v1/namespaces/:ns"),
    ).toBe(true);
    const tokens = await call(h, "GET", "/v1/audit?resource=/v1/tokens");
    expect(tokens.body.entries.some((e: { action: string }) => e.action === "DELETE /v1/tokens/:id")).toBe(
      true,
    );

    const exported = await h.registry.app.inject({
      method: "GET",
      url: "/v1/audit/export?outcome=denied",
      headers: bearer(h.adminToken),
    });
    expect(exported.headers["content-type"]).toContain("application/x-ndjson");
    const lines = exported.body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l: { outcome: string }) => l.outcome === "denied")).toBe(true);
    expect(exported.body).not.toContain(viewer);

    // A secret revealed is a secret read in the log; the same read redacted is not.
    await call(h, "PUT", "/v1/namespaces/shop/layers/staging", { pw: { $secret: "hunter2" } });
    const reader = await h.tokenFor(["secret-reader:shop:staging"], { owner: "gina" });
    const read = await call(
      h,
      "GET",
      "/v1/namespaces/shop/environments/staging/resolved",
      undefined,
      bearer(reader),
    );
    expect(read.body.content.pw).toBe("hunter2");
    await call(h, "GET", "/v1/namespaces/shop/environments/staging/resolved", undefined, bearer(viewer));
    const reads = await call(h, "GET", "/v1/audit?resource=/v1/namespaces/shop/environments/staging");
    const secretReads = reads.body.entries.filter((e: { action: string }) => e.action === "secret.read");
    expect(secretReads).toHaveLength(1);
    expect(secretReads[0]).toMatchObject({
      outcome: "allowed",
      details: { namespaces: ["shop"], environment: "staging" },
    });
    expect(JSON.stringify(reads.body)).not.toContain("hunter2");

    await expect(h.db.pool.query("UPDATE audit_log SET outcome = 'allowed'")).rejects.toThrow(/append-only/);
    await expect(h.db.pool.query("DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    const viewerAudit = await call(h, "GET", "/v1/audit", undefined, bearer(viewer));
    expect(viewerAudit.status).toBe(403);
  });
});

describe("guessing tokens", () => {
  let h: Harness;
  beforeAll(async () => {
    const redis = await import("@nexus/test-fixtures").then((m) => m.createTestRedis());
    h = await startRegistry({
      // The defaults (AUTH_MAX_FAILURES=20), counted in Redis as in production.
      failures: createFailedAuthLimiter({
        redis: redis.redis,
        keyPrefix: "",
        maxFailures: 20,
        windowSeconds: 60,
      }),
      // The registry sits behind a reverse proxy on loopback (where injected requests come from).
      trustProxy: ["127.0.0.1"],
    });
    h.close = ((close) => async () => {
      await close();
      await redis.cleanup();
    })(h.close);
  });
  afterAll(async () => h?.close());

  const guess = (i: number, from: string) =>
    call(h, "GET", "/v1/whoami", undefined, {
      ...bearer(`nxs_${i.toString(16).padStart(16, "0")}_${"a".repeat(43)}`),
      "x-forwarded-for": from,
    });

  it("refuses further invalid tokens from an address after 20, never a valid token from it", async () => {
    const guesses: number[] = [];
    for (let i = 0; i < 25; i++) guesses.push((await guess(i, "203.0.113.7")).status);
    expect(guesses).toEqual([...Array<number>(20).fill(401), ...Array<number>(5).fill(429)]);

    // Someone else behind the same address, with a good token, is not locked out.
    const valid = await call(h, "GET", "/v1/whoami", undefined, { "x-forwarded-for": "203.0.113.7" });
    expect(valid.status).toBe(200);
    const viewer = await h.tokenFor(["viewer:shop"], { name: "colleague" });
    const colleague = await call(h, "GET", "/v1/whoami", undefined, {
      ...bearer(viewer),
      "x-forwarded-for": "203.0.113.7",
    });
    expect(colleague.status).toBe(200);

    // The guesser still is.
    const blocked = await guess(99, "203.0.113.7");
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe("too_many_failed_logins");
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect(blocked.headers["x-request-id"]).toBeTruthy();
  });

  it("counts per client address, as the trusted proxy reports it", async () => {
    // Another client behind the same proxy has its own count: a bad token is a 401, not a 429.
    expect((await guess(100, "198.51.100.20")).status).toBe(401);
    // An address claimed by a client that is not a trusted proxy is ignored: the claim comes
    // through the proxy as the first of two hops, and the proxy's own entry is what counts.
    expect((await guess(101, "203.0.113.7, 198.51.100.21")).status).toBe(401);
  });
});

describe("rate limits per token", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry({ rateLimitPerMinute: 5 });
  });
  afterAll(async () => h?.close());

  it("answers 429 with Retry-After once a token used its requests, without touching other tokens or probes", async () => {
    const busy = await h.tokenFor(["viewer"], { name: "busy" });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await call(h, "GET", "/v1/whoami", undefined, bearer(busy))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await call(h, "GET", "/v1/whoami", undefined, bearer(busy));
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect((await call(h, "GET", "/v1/whoami")).status).toBe(200); // the admin's own budget
    expect((await call(h, "GET", "/livez", undefined, { authorization: "" })).status).toBe(200);
    // Counted in Redis (added every 100 ms), so every instance shares the budget.
    await expect.poll(async () => (await h.redis.redis.keys("*ratelimit:*")).length).toBeGreaterThan(0);
  });

  it("costs no Redis round trip per request: counts are added to the shared ones in batches", async () => {
    const quiet = await h.tokenFor(["viewer"], { name: "quiet" });
    const redis = h.redis.redis;
    const sent: string[] = [];
    const statuses: number[] = [];
    const original = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (original as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof redis.sendCommand;
    try {
      for (let i = 0; i < 4; i++) {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            call(h, "GET", "/v1/whoami", undefined, bearer(quiet)).then((r) => statuses.push(r.status)),
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      redis.sendCommand = original;
    }
    // Still limited (5 a minute), decided here from the count this instance keeps.
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    // @fastify/rate-limit's Redis store sent one EVALSHA per request (20 here).
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(8);
  });
});
