import { checkRouteTable } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, seedShop, startWorld, type World } from "./harness.js";

/** Access control over every orchestrator route, and the audit of writes and denials. */
describe("orchestrator: access control", () => {
  let world: World;
  let outsider: string;
  let admin: string;
  const pipeline = (name: string) => ({
    name,
    namespace: "shop",
    source: "staging",
    target: "production",
    steps: [{ type: "approve" }],
  });

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    await world.startOrchestrator();
    outsider = await world.issuer.token(["admin:elsewhere-*"], { subject: "outsider" });
    admin = await world.issuer.token(["admin"], { subject: "root" });
  });
  afterAll(async () => world?.close());

  it("has no public route beyond the probes and metrics", () => {
    const open = world
      .orchestrator!.routes.filter(
        (r) => "public" in r.access && !r.url.startsWith("/docs") && r.method !== "HEAD",
      )
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual(["GET /livez", "GET /metrics", "GET /readyz"]);
  });

  it("refuses anonymous callers and lets an admin through on every route", async () => {
    let n = 0;
    const failures = await checkRouteTable({
      inject: (opts) => world.orchestrator!.app.inject(opts as never),
      routes: world.orchestrator!.routes,
      samples: async () => {
        const name = `route-table-${++n}`;
        await world.call("POST", "/v1/pipelines", pipeline(name));
        const started = await world.call("POST", `/v1/pipelines/${name}/runs`, {});
        return { name, id: String(started.body?.id ?? "00000000-0000-0000-0000-000000000000") };
      },
      adminToken: admin,
      outsiderToken: outsider,
    });
    expect(failures).toEqual([]);
  });

  it("refuses a token scoped to other namespaces, and the wrong role, on pipelines and runs", async () => {
    expect((await world.call("POST", "/v1/pipelines", pipeline("scoped"))).status).toBe(201);
    const id = (await world.call("POST", "/v1/pipelines/scoped/runs", {})).body.id as string;
    await eventually(
      () => world.call("GET", `/v1/runs/${id}`).then((r) => r.body.status),
      (s) => s === "awaiting-approval",
    );
    const as = (token: string) => ({
      getPipeline: () => world.call("GET", "/v1/pipelines/scoped", undefined, token),
      put: () => world.call("PUT", "/v1/pipelines/scoped", pipeline("scoped"), token),
      remove: () => world.call("DELETE", "/v1/pipelines/scoped", undefined, token),
      start: () => world.call("POST", "/v1/pipelines/scoped/runs", {}, token),
      getRun: () => world.call("GET", `/v1/runs/${id}`, undefined, token),
      approve: () => world.call("POST", `/v1/runs/${id}/approve`, {}, token),
    });
    for (const [name, attempt] of Object.entries(as(outsider)))
      expect([name, (await attempt()).status]).toEqual([name, 403]);
    expect((await world.call("GET", "/v1/pipelines", undefined, outsider)).body.items).toEqual([]);
    expect((await world.call("GET", "/v1/runs", undefined, outsider)).body.items).toEqual([]);
    // An approver may not edit or start; an editor may not approve.
    expect((await as(world.tokens.bob).start()).status).toBe(403);
    expect((await as(world.tokens.bob).put()).status).toBe(403);
    const editorApproves = await world.call("POST", `/v1/runs/${id}/approve`, {}, world.tokens.alice);
    expect(editorApproves.status).toBe(403);
    // Bad identifiers are a 400 naming the field, not a 500.
    const badId = await world.call("GET", "/v1/runs/not-a-uuid");
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toMatch(/id/);
  });

  it("lists the newest runs a scoped token may see (rollouts are listed the same way), even when newer ones elsewhere fill the limit", async () => {
    const shop = (await world.call("GET", "/v1/runs?limit=1")).body.items[0];
    expect(shop?.namespace).toBe("shop");
    // 150 newer finished runs in a namespace the shop viewer does not see (more than one page).
    await world.db.pool.query(
      `INSERT INTO orchestrator.runs
       SELECT (jsonb_populate_record(NULL::orchestrator.runs, to_jsonb(r) || jsonb_build_object(
         'id', gen_random_uuid(), 'namespace', 'elsewhere-a', 'status', 'failed',
         'created_at', now() + g * interval '1 second'))).*
       FROM orchestrator.runs r, generate_series(1, 150) g WHERE r.id = $1`,
      [shop.id],
    );
    const shopViewer = await world.issuer.token(["viewer:shop"], { subject: "shop-viewer" });
    const seen = await world.call("GET", "/v1/runs?limit=2", undefined, shopViewer);
    expect(seen.status).toBe(200);
    expect(seen.body.items.map((r: { namespace: string }) => r.namespace)).toEqual(["shop", "shop"]);
    expect(seen.body.items[0].id).toBe(shop.id);
    const other = await world.call("GET", "/v1/runs?limit=3", undefined, outsider);
    expect(other.body.items.map((r: { namespace: string }) => r.namespace)).toEqual([
      "elsewhere-a",
      "elsewhere-a",
      "elsewhere-a",
    ]);
  });

  it("keeps an audit log of its writes and denials", async () => {
    const denied = await world.call("POST", "/v1/pipelines", pipeline("nope"), world.tokens.viewer);
    expect(denied.status).toBe(403);
    await expect
      .poll(
        async () =>
          (await world.call("GET", "/v1/audit?outcome=denied&actor=oidc:vera", undefined, admin)).body.entries
            .length,
      )
      .toBeGreaterThan(0);
    await expect
      .poll(
        async () =>
          (await world.call("GET", "/v1/audit?actor=oidc:alice", undefined, admin)).body.entries.length,
      )
      .toBeGreaterThan(0);
  });
});
