import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

describe("platform endpoints", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
  });
  afterAll(async () => h?.close());

  it("/livez answers and /readyz checks Postgres, NATS and Redis", async () => {
    expect((await call(h, "GET", "/livez")).status).toBe(200);
    const ready = await call(h, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("ready");
    expect(Object.keys(ready.body.checks).sort()).toEqual(["jetstream", "nats", "postgres", "redis"]);
  });

  it("/readyz turns 503 while draining", async () => {
    h.registry.startDraining();
    const res = await call(h, "GET", "/readyz");
    expect(res.status).toBe(503);
    expect(res.body.status).toBe("draining");
  });

  it("/metrics exposes RED metrics by route pattern", async () => {
    await call(h, "GET", "/v1/namespaces/nope");
    const res = await h.registry.app.inject({ method: "GET", url: "/metrics" });
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/v1\/namespaces\/:ns"[^}]*status="404"/,
    );
    expect(res.body).toContain("http_request_duration_seconds_bucket");
  });

  it("serves the OpenAPI document generated from the route schemas", async () => {
    const res = await call(h, "GET", "/docs/json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths)).toContain("/v1/namespaces/{ns}/environments/{env}/resolved");
  });

  it("echoes a caller's request id and puts it in error bodies", async () => {
    const res = await call(h, "GET", "/v1/nowhere", undefined, { "x-request-id": "req-abc-123" });
    expect(res.status).toBe(404);
    expect(res.headers["x-request-id"]).toBe("req-abc-123");
    expect(res.body.error).toEqual({
      code: "route_not_found",
      message: "No route for GET /v1/nowhere",
      requestId: "req-abc-123",
    });
  });
});
