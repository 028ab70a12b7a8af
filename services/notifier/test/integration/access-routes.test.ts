import { checkRouteTable } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startNotifier } from "./harness.js";

/** The route-table access check (see @nexus/test-fixtures checkRouteTable) over every notifier route. */
describe("notifier: access control over the whole route table", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startNotifier();
  });
  afterAll(async () => h?.close());

  it("has no public route beyond the probes, metrics and the Alertmanager intake (its own bearer token)", () => {
    const open = h.app.routes
      .filter((r) => "public" in r.access && !r.url.startsWith("/docs") && r.method !== "HEAD")
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual(["GET /livez", "GET /metrics", "GET /readyz", "POST /v1/intake/alertmanager"]);
  });

  it("refuses anonymous callers and outsiders, and lets an admin through, on every route", async () => {
    const failures = await checkRouteTable({
      inject: (opts) => h.app.app.inject(opts as never),
      routes: h.app.routes,
      samples: async () => ({
        name: "route-table",
        id: "00000000-0000-4000-8000-000000000000",
        fingerprint: "route-table-fingerprint",
        version: "1",
      }),
      adminToken: h.adminToken,
      outsiderToken: await h.issuer.token(["viewer:elsewhere-*"], { subject: "outsider" }),
    });
    expect(failures).toEqual([]);
  });
});
