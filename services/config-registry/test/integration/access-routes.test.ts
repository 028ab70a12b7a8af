import type { AccessRule, RouteAccess } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * Generated from the route table: every route the registry serves is called without a token,
 * with a token whose grants cover other namespaces only, and with an admin token. A route added
 * without an access rule never gets this far (the kit refuses to register it); a route with a
 * path parameter this file has no sample for fails here until one is added.
 */
const SAMPLE_PARAMS: Record<string, (ctx: { ns: string; tokenId: string }) => string> = {
  ns: (c) => c.ns,
  layer: () => "production",
  env: () => "production",
  n: () => "1",
  id: (c) => c.tokenId,
};

function fill(url: string, ctx: { ns: string; tokenId: string }): string {
  return url.replace(/:(\w+)/g, (_, name: string) => {
    const sample = SAMPLE_PARAMS[name];
    if (!sample) throw new Error(`no sample value for path parameter :${name} (route ${url}); add one above`);
    return encodeURIComponent(sample(ctx));
  });
}

const isPublic = (a: AccessRule) => "public" in a;
const needsScope = (a: AccessRule) => "role" in a && a.scope !== undefined;

describe("access control over the whole route table", () => {
  let h: Harness;
  let routes: RouteAccess[];
  let outsider: string;
  let counter = 0;

  /** A fresh namespace with one revision in each layer, and a fresh token to revoke. */
  async function fixture(): Promise<{ ns: string; tokenId: string }> {
    const ns = `rt-${++counter}`;
    expect((await call(h, "POST", "/v1/namespaces", { name: ns })).status).toBe(201);
    expect((await call(h, "PUT", `/v1/namespaces/${ns}/layers/base`, { a: 1 })).status).toBe(200);
    expect((await call(h, "PUT", `/v1/namespaces/${ns}/layers/production`, { b: 1 })).status).toBe(200);
    const token = await call(h, "POST", "/v1/tokens", { name: `rt-${counter}`, grants: ["viewer"] });
    return { ns, tokenId: token.body.id };
  }

  beforeAll(async () => {
    h = await startRegistry();
    routes = h.registry.routes.filter((r) => r.method !== "HEAD" && !r.url.startsWith("/docs"));
    outsider = await h.tokenFor(["admin:elsewhere-*"], { name: "outsider" });
  });
  afterAll(async () => h?.close());

  it("knows the routes (the table is not empty and has no rule-less entries)", () => {
    expect(routes.length).toBeGreaterThan(15);
    for (const r of routes) expect(r.access, `${r.method} ${r.url}`).toBeDefined();
  });

  it("refuses every non-public route without a token (401) and serves public ones", async () => {
    const ctx = await fixture();
    for (const r of routes) {
      const res = await call(h, r.method as "GET", fill(r.url, ctx), r.method === "GET" ? undefined : {}, {
        authorization: "",
      });
      const label = `${r.method} ${r.url}`;
      if (isPublic(r.access)) expect(res.status, label).not.toBe(401);
      else {
        expect(res.status, label).toBe(401);
        expect(res.body.error.code, label).toBe("unauthenticated");
        expect(res.headers["www-authenticate"], label).toContain("Bearer");
      }
    }
  });

  it("refuses a token scoped to other namespaces (404 where existence must not leak, else 403)", async () => {
    const ctx = await fixture();
    for (const r of routes) {
      if (isPublic(r.access) || "authenticated" in r.access) continue;
      const res = await call(h, r.method as "GET", fill(r.url, ctx), r.method === "GET" ? undefined : {}, {
        authorization: `Bearer ${outsider}`,
      });
      const label = `${r.method} ${r.url}`;
      if (needsScope(r.access) && "hideExistence" in r.access && r.access.hideExistence) {
        expect(res.status, label).toBe(404);
        expect(res.body.error.message, label).not.toContain(ctx.ns);
      } else expect(res.status, label).toBe(403);
    }
    // Nothing changed: the namespace is as the fixture left it.
    const ns = await call(h, "GET", `/v1/namespaces/${ctx.ns}`);
    expect(ns.status).toBe(200);
    expect(ns.body.headRevision).toBe(2);
  });

  it("lets an admin through every route (whatever the answer, never 401 or 403)", async () => {
    for (const r of routes) {
      const ctx = await fixture();
      const res = await call(h, r.method as "GET", fill(r.url, ctx), r.method === "GET" ? undefined : {});
      expect([401, 403], `${r.method} ${r.url} answered ${res.status}`).not.toContain(res.status);
    }
  });
});
