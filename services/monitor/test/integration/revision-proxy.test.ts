import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startMonitor } from "./harness.js";

/** A port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** The revision view's routes when the registry is not there: 503 naming it; bad input: 400 with the field. */
describe("monitor: revision routes without a registry", () => {
  let unset: Harness;
  let gone: Harness;
  beforeAll(async () => {
    unset = await startMonitor();
    gone = await startMonitor({ registryUrl: `http://127.0.0.1:${await closedPort()}` });
  });
  afterAll(async () => {
    await unset?.close();
    await gone?.close();
  });

  it("answers 503 naming the registry, whether unset or not answering", async () => {
    const a = await unset.call("GET", "/v1/dashboard/layers/shop/base/revisions");
    expect(a.status).toBe(503);
    expect(a.body.error.code).toBe("registry_not_configured");
    const b = await gone.call("POST", "/v1/dashboard/layers/shop/production/rollback", { revision: 2 });
    expect(b.status).toBe(503);
    expect(b.body.error).toMatchObject({ code: "registry_unavailable" });
    expect(b.body.error.message).toContain("config-registry");
    expect(b.headers["x-request-id"] ?? b.body.error.requestId).toBeTruthy();
  });

  it("refuses bad input before asking anyone", async () => {
    const ns = await gone.call("GET", "/v1/dashboard/layers/Not_A_Name/base/revisions");
    expect(ns.status).toBe(400);
    expect(ns.body.error.field).toContain("ns");
    const body = await gone.call("POST", "/v1/dashboard/layers/shop/production/rollback", {
      revision: 0,
      extra: true,
    });
    expect(body.status).toBe(400);
    const n = await gone.call("GET", "/v1/dashboard/layers/shop/base/revisions/zero");
    expect(n.status).toBe(400);
    expect(n.body.error.field).toContain("n");
    const anonymous = await gone.call("GET", "/v1/dashboard/layers/shop/base/revisions", undefined, {
      authorization: "",
    });
    expect(anonymous.status).toBe(401);
  });
});
