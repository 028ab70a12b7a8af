import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startWorld, type World } from "./harness.js";

const hashOf = (n: number) => n.toString(16).padStart(64, "0");

/** GET /v1/convergence: every head's newest revision in one answer, the same figures as per target. */
describe("drift-detector: convergence of every namespace/environment at once", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(async () => w?.close());

  it("agrees with the per-target route and shows only what the caller may view", async () => {
    for (const namespace of ["pay-api", "hr-api"])
      for (const revision of [1, 2])
        await w.publish("nexus.config.changed", {
          schemaVersion: 1,
          namespace,
          environment: "production",
          revision,
          previousRevision: revision - 1,
          hash: hashOf(revision),
          previousHash: revision === 1 ? null : hashOf(revision - 1),
          layer: "production",
          changedPaths: [],
          trigger: "write",
          actor: "alice",
          source: "api",
        });
    const ack = (instanceId: string, revision: number) =>
      w.publish("nexus.config.applied", {
        schemaVersion: 1,
        status: "applied",
        service: "pay-api",
        instanceId,
        namespace: "pay-api",
        environment: "production",
        revision,
        hash: hashOf(revision),
        source: "live",
        trigger: "change",
        appliedAt: new Date().toISOString(),
      });
    // Reports are taken only for namespaces the detector knows (from their heads, or by asking
    // the registry, which this world has not): let the heads arrive first.
    await eventually(
      () => w.call("GET", "/v1/convergence"),
      (r) => r.body.items?.length === 2,
    );
    await ack("p-1", 2);
    await ack("p-2", 1);

    const all = await eventually(
      () => w.call("GET", "/v1/convergence"),
      (r) =>
        r.body.items?.length === 2 &&
        r.body.items.find((i: { namespace: string }) => i.namespace === "pay-api")?.applied === 1,
    );
    const pay = all.body.items.find((i: { namespace: string }) => i.namespace === "pay-api");
    expect(pay).toMatchObject({
      environment: "production",
      revision: 2,
      applied: 1,
      runningNow: 1,
      stillOlder: 1,
    });
    expect(pay.converged).toBe(false);
    const single = await w.call("GET", "/v1/namespaces/pay-api/environments/production/convergence?limit=1");
    const { namespace: _n, environment: _e, ...figures } = pay;
    expect(single.body.items[0]).toEqual(figures);
    expect(all.body.items.map((i: { namespace: string }) => i.namespace).sort()).toEqual([
      "hr-api",
      "pay-api",
    ]);

    const viewer = await w.issuer.token(["viewer:pay-*:*"], { subject: "pat" });
    const mine = await w.call("GET", "/v1/convergence", undefined, viewer);
    expect(mine.body.items.map((i: { namespace: string }) => i.namespace)).toEqual(["pay-api"]);
    expect((await w.call("GET", "/v1/convergence", undefined, "not-a-token")).status).toBe(401);
  });
});
