import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../config-registry/test/integration/harness.js";
import { startWorld, type World } from "./harness.js";

/**
 * The registry asking the drift-detector's policies before a write commits (POLICY_CHECK_ENVIRONMENTS):
 * a write that would break a production policy is refused with the rule's path and stores nothing.
 */
describe("policies as a blocking check on write", () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld(
      {},
      { policyCheck: { environments: ["production"], timeoutMs: 2_000, failOpen: false } },
    );
    expect((await call(w.registry, "POST", "/v1/namespaces", { name: "pay" })).status).toBe(201);
    const created = await w.call("POST", "/v1/policies", {
      name: "prod-tls",
      environment: "production",
      severity: "critical",
      rules: [{ op: "equals", path: "database.ssl", value: true }],
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => w?.close());

  it("refuses a production write that breaks a policy, and accepts one that keeps it", async () => {
    const bad = await call(w.registry, "PUT", "/v1/namespaces/pay/layers/production", {
      database: { ssl: false },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: "policy_violation", field: "database.ssl" });
    expect(bad.body.error.message).toContain("prod-tls");
    expect((await call(w.registry, "GET", "/v1/namespaces/pay/layers/production")).body.revision).toBe(0);

    const good = await call(w.registry, "PUT", "/v1/namespaces/pay/layers/production", {
      database: { ssl: true },
    });
    expect(good.status).toBe(200);
    // Staging is not checked: the same document goes through there.
    const staging = await call(w.registry, "PUT", "/v1/namespaces/pay/layers/staging", {
      database: { ssl: false },
    });
    expect(staging.status).toBe(200);
  });

  it("refuses a base write whose effect on production breaks the policy", async () => {
    const base = await call(w.registry, "PUT", "/v1/namespaces/pay/layers/base", {
      database: { ssl: false },
    });
    expect(base.status).toBe(200); // production's overlay keeps ssl: true, so production is fine
    const dropOverlay = await call(w.registry, "PUT", "/v1/namespaces/pay/layers/production", {});
    expect(dropOverlay.status).toBe(422);
    expect(dropOverlay.body.error.details[0]).toMatchObject({ namespace: "pay", environment: "production" });
  });

  it("refuses writes while the detector does not answer (fail closed)", async () => {
    await w.detector.stop();
    const res = await call(w.registry, "PUT", "/v1/namespaces/pay/layers/production", {
      database: { ssl: true },
      x: 1,
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("policy_check_unavailable");
  });
});
