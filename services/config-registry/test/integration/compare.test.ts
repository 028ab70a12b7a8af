import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/** `GET /v1/namespaces/{ns}/compare?from=&to=`: what a promotion would change, with provenance. */
describe("environment comparison", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    expect((await call(h, "POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    await call(h, "PUT", "/v1/namespaces/shop/layers/base", { db: { host: "db", pool: 5 }, key: { $secret: "a" } });
    await call(h, "PUT", "/v1/namespaces/shop/layers/staging", { db: { pool: 10 }, feature: true });
    await call(h, "PUT", "/v1/namespaces/shop/layers/production", { db: { host: "db.prod" }, key: { $secret: "b" } });
  });
  afterAll(async () => h?.close());

  it("lists each change with both values and where each comes from; secrets stay ***", async () => {
    const res = await call(h, "GET", "/v1/namespaces/shop/compare?from=staging&to=production");
    expect(res.status).toBe(200);
    expect(res.body.from).toMatchObject({ environment: "staging", revision: 2 });
    expect(res.body.to).toMatchObject({ environment: "production", revision: 3 });
    const byPath = Object.fromEntries(res.body.changes.map((c: { path: string }) => [c.path, c]));
    expect(byPath["/db/host"]).toMatchObject({
      op: "replace",
      from: "db",
      to: "db.prod",
      fromSource: { layer: "base", revision: 1 },
      toSource: { layer: "production", revision: 3 },
    });
    expect(byPath["/db/pool"]).toMatchObject({ op: "replace", from: 10, to: 5, fromSource: { layer: "staging" } });
    expect(byPath["/feature"]).toMatchObject({ op: "remove", from: true, fromSource: { layer: "staging" } });
    expect(JSON.stringify(res.body)).not.toMatch(/"a"|"b"/);
    const same = await call(h, "GET", "/v1/namespaces/shop/compare?from=production&to=production");
    expect(same.body.changes).toEqual([]);
  });

  it("needs viewer on both environments and names a bad field", async () => {
    const stagingOnly = await h.tokenFor(["viewer:shop:staging"]);
    const refused = await call(h, "GET", "/v1/namespaces/shop/compare?from=staging&to=production", undefined, {
      authorization: `Bearer ${stagingOnly}`,
    });
    expect(refused.status).toBe(403);
    const bad = await call(h, "GET", "/v1/namespaces/shop/compare?from=staging");
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("to");
    const unknown = await call(h, "GET", "/v1/namespaces/shop/compare?from=staging&to=qa");
    expect(unknown.status).toBe(404);
  });
});
