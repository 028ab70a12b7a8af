import { checkRouteTable } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, type World } from "./harness.js";

/** The route-table access check (see @nexus/test-fixtures checkRouteTable) over every detector route. */
describe("drift-detector: access control over the whole route table", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => world?.close());

  it("has no public route beyond the probes and metrics", () => {
    const open = world.detector.app.routes
      .filter((r) => "public" in r.access && !r.url.startsWith("/docs") && r.method !== "HEAD")
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual(["GET /livez", "GET /metrics", "GET /readyz"]);
  });

  it("refuses anonymous callers and outsiders, and lets an admin through, on every route", async () => {
    let n = 0;
    const failures = await checkRouteTable({
      inject: (opts) => world.detector.app.app.inject(opts as never),
      routes: world.detector.app.routes,
      samples: async () => {
        const created = await world.call("POST", "/v1/policies", {
          name: `route-table-${++n}`,
          environment: "production",
          rules: [{ path: "$.log_level", op: "not-equals", value: "debug" }],
        });
        return {
          ns: "shop",
          env: "production",
          revision: "1",
          id: String(created.body?.id ?? "00000000-0000-0000-0000-000000000000"),
        };
      },
      adminToken: world.adminToken,
      outsiderToken: await world.issuer.token(["admin:elsewhere-*"], { subject: "outsider" }),
    });
    expect(failures).toEqual([]);
  });

  it("keeps an audit log of its writes and denials", async () => {
    const viewer = await world.issuer.token(["viewer:shop"], { subject: "vic" });
    const denied = await world.call("POST", "/v1/policies", { name: "nope" }, viewer);
    expect(denied.status).toBe(403);
    await expect
      .poll(
        async () => (await world.call("GET", "/v1/audit?outcome=denied&actor=oidc:vic")).body.entries.length,
      )
      .toBeGreaterThan(0);
  });
});
