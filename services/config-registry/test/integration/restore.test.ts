import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/** `POST /v1/namespaces/{ns}/restore`: what the backup service's point-in-time restore calls. */
describe("restoring layers from a backup", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    expect((await call(h, "POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    await call(h, "PUT", "/v1/namespaces/shop/layers/base", { pool: 5, password: { $secret: "s3cret" } });
    await call(h, "PUT", "/v1/namespaces/shop/layers/production", { pool: 50 });
  });
  afterAll(async () => h?.close());

  it("shows the diffs on a dry run and changes nothing", async () => {
    const res = await call(h, "POST", "/v1/namespaces/shop/restore", {
      label: "b-1@2026-12-06T10:00:00Z",
      layers: { production: { pool: 20 } },
      dryRun: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.layers).toEqual([
      {
        layer: "production",
        changed: true,
        revision: 2,
        operations: [{ op: "replace", path: "/pool", value: 20 }],
      },
    ]);
    const layer = await call(h, "GET", "/v1/namespaces/shop/layers/production");
    expect(layer.body.content).toEqual({ pool: 50 });
  });

  it("writes one revision per changed layer with source restore:<label>, sealed secrets kept", async () => {
    const history = await h.db.pool.query(
      "SELECT content FROM revisions WHERE namespace = 'shop' AND layer = 'base' ORDER BY revision LIMIT 1",
    );
    const sealedBase = history.rows[0].content; // as a backup holds it: the secret sealed
    await call(h, "PUT", "/v1/namespaces/shop/layers/base", { pool: 7, password: { $secret: "other" } });
    const res = await call(h, "POST", "/v1/namespaces/shop/restore", {
      label: "b-1@2026-12-06T10:00:00Z",
      layers: { base: sealedBase, production: { pool: 50 } },
    });
    expect(res.status).toBe(200);
    const base = res.body.layers.find((l: { layer: string }) => l.layer === "base");
    const production = res.body.layers.find((l: { layer: string }) => l.layer === "production");
    expect(base.changed).toBe(true);
    expect(production.changed).toBe(false);
    const rev = await call(h, "GET", `/v1/namespaces/shop/layers/base/revisions/${base.revision}`);
    expect(rev.body.source).toBe("restore:b-1@2026-12-06T10:00:00Z");
    const revealed = await h.registry.services.layers.get("shop", "base", { revealSecrets: true });
    expect(revealed.content).toEqual({ pool: 5, password: "s3cret" });
  });

  it("is for admins only, and refuses bad labels and unknown layers", async () => {
    const editor = await h.tokenFor(["editor:shop"]);
    const refused = await call(
      h,
      "POST",
      "/v1/namespaces/shop/restore",
      { label: "x", layers: { production: {} } },
      { authorization: `Bearer ${editor}` },
    );
    expect(refused.status).toBe(403);
    const badLabel = await call(h, "POST", "/v1/namespaces/shop/restore", { label: "a b", layers: {} });
    expect(badLabel.status).toBe(400);
    expect(badLabel.body.error.field).toBe("label");
    const unknown = await call(h, "POST", "/v1/namespaces/shop/restore", {
      label: "x",
      layers: { qa: { a: 1 } },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("environment_not_found");
  });
});
