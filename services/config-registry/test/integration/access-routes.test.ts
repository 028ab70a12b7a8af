import { checkRouteTable } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * Generated from the route table: every route the registry serves is called without a token,
 * with a token whose grants cover other namespaces only, and as an admin. A route added without
 * an access rule never gets this far (the kit refuses to register it); a route with a path
 * parameter that has no sample below fails here until one is added.
 */
describe("access control over the whole route table", () => {
  let h: Harness;
  let counter = 0;

  let shared: Record<string, string> | undefined;

  /** A namespace with one revision in each layer and a token: fresh for each admin call (it may delete them). */
  async function samples(pass: string): Promise<Record<string, string>> {
    if (pass !== "admin" && shared) return shared;
    const ns = `rt-${++counter}`;
    expect((await call(h, "POST", "/v1/namespaces", { name: ns })).status).toBe(201);
    expect((await call(h, "PUT", `/v1/namespaces/${ns}/layers/base`, { a: 1 })).status).toBe(200);
    expect((await call(h, "PUT", `/v1/namespaces/${ns}/layers/production`, { b: 1 })).status).toBe(200);
    const token = await call(h, "POST", "/v1/tokens", { name: `rt-${counter}`, grants: ["viewer"] });
    // A Git source on staging only (production stays writable for the layer routes); never fetched.
    const source = await call(h, "POST", "/v1/git-sources", {
      name: `${ns}-git`,
      provider: "github",
      url: `file:///nonexistent/${ns}.git`,
      namespaces: [ns],
      environments: { staging: "main" },
    });
    expect(source.status).toBe(201);
    const values = {
      ns,
      layer: "production",
      env: "production",
      n: "1",
      id: token.body.id,
      name: `${ns}-git`,
    };
    if (pass !== "admin") shared = values;
    return values;
  }

  beforeAll(async () => {
    h = await startRegistry();
  });
  afterAll(async () => h?.close());

  it("covers the routes the registry serves", () => {
    const urls = new Set(h.registry.routes.map((r) => r.url));
    for (const url of [
      "/v1/namespaces/:ns/layers/:layer",
      "/v1/tokens/:id",
      "/v1/audit",
      "/v1/change-requests/:id/approve",
      "/v1/git-sources/:name/imports",
      "/v1/webhooks/github",
    ])
      expect(urls.has(url), url).toBe(true);
  });

  it("has no public route beyond the probes and metrics (a new public route must be added here on purpose)", () => {
    const open = h.registry.routes
      .filter((r) => "public" in r.access && !r.url.startsWith("/docs") && r.method !== "HEAD")
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual([
      "GET /livez",
      "GET /metrics",
      "GET /readyz",
      "POST /v1/webhooks/bitbucket",
      "POST /v1/webhooks/gitea",
      "POST /v1/webhooks/github",
      "POST /v1/webhooks/gitlab",
    ]);
  });

  it("refuses anonymous callers and outsiders, and lets an admin through, on every route", async () => {
    const failures = await checkRouteTable({
      inject: (opts) => h.registry.app.inject(opts as never),
      routes: h.registry.routes,
      samples,
      adminToken: h.adminToken,
      outsiderToken: await h.tokenFor(["admin:elsewhere-*"], { name: "outsider" }),
    });
    expect(failures).toEqual([]);
  });
});
