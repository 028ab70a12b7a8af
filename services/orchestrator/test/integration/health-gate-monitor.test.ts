import { combineAuthenticators, createLogger, createRemoteTokenAuthenticator } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness as MonitorHarness, startMonitor } from "../../../monitor/test/integration/harness.js";
import { eventually, type JsonBody, seedShop, startWorld, type World } from "./harness.js";

/**
 * health-gate with the monitor's health model: the real monitor (same NATS prefix, accepting the
 * orchestrator's registry token) turns the drift-detector's finding about the promoted revision
 * into an alert about shop/production, and the gate fails on that alert, not on its own count of
 * rejections (it allows five here), so the run rolls back.
 */
describe("health-gate with the monitor", () => {
  let world: World;
  let monitor: MonitorHarness;
  let monitorUrl: string;

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    monitor = await startMonitor(
      {},
      {
        nats: world.registry.nats,
        authenticator: (issuer) =>
          combineAuthenticators({
            apiTokens: createRemoteTokenAuthenticator({
              bus: world.registry.nats.bus,
              key: world.registry.tokenKey,
            }),
            oidc: issuer.authenticator(createLogger({ service: "t", level: "silent" })),
          }),
      },
    );
    const saved = await monitor.call("PUT", "/v1/alert-rules", {
      rules: [{ name: "any-drift", kind: "drift_finding_open", olderThan: "0s", severity: "warning" }],
    });
    expect(saved.status).toBe(200);
    await monitor.app.app.listen({ host: "127.0.0.1", port: 0 });
    const address = monitor.app.app.server.address() as { port: number };
    monitorUrl = `http://127.0.0.1:${address.port}`;
    await world.startOrchestrator({ monitorUrl });
  });
  afterAll(async () => {
    await world?.stopOrchestrator();
    await monitor?.close();
    await world?.close();
  });

  const run = (id: string) => world.call("GET", `/v1/runs/${id}`).then((r) => r.body as JsonBody);

  it("passes while the monitor has no alert about the target, and fails (rolling back) on one", async () => {
    const pipeline = {
      name: "shop-monitored",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      steps: [{ type: "promote" }, { type: "health-gate", bakeSeconds: 1, maxRejected: 5 }],
    };
    expect((await world.call("POST", "/v1/pipelines", pipeline)).status).toBe(201);
    const quiet = (await world.call("POST", "/v1/pipelines/shop-monitored/runs", {})).body.id as string;
    const passed = await eventually(
      () => run(quiet),
      (r) => r.status !== "running",
    );
    expect(passed.status).toBe("succeeded");
    expect(passed.steps[1].summary).toMatch(/healthy for 1 s: .*no monitor alerts/);

    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { banner: "gate" });
    expect(
      (
        await world.call("PUT", "/v1/pipelines/shop-monitored", {
          ...pipeline,
          steps: [{ type: "promote" }, { type: "health-gate", bakeSeconds: 60, maxRejected: 5 }],
        })
      ).status,
    ).toBe(200);
    const before = await world.registryCall("GET", "/v1/namespaces/shop/layers/production");
    const id = (await world.call("POST", "/v1/pipelines/shop-monitored/runs", {})).body.id as string;
    await eventually(
      () => run(id),
      (r) => r.steps[1].status === "waiting",
    );
    const promoted = await world.resolved("shop", "production");
    await world.publish("nexus.config.applied", {
      schemaVersion: 1,
      service: "shop-api",
      instanceId: "prod-1",
      namespace: "shop",
      environment: "production",
      revision: promoted.revision,
      hash: promoted.hash,
      source: "live",
      trigger: "change",
      appliedAt: new Date().toISOString(),
      status: "rejected",
      reason: "banner must not be empty",
    });
    const done = await eventually(
      () => run(id),
      (r) => r.status === "rolled-back" || r.status === "failed" || r.status === "succeeded",
      30_000,
    );
    expect(done.status).toBe("rolled-back");
    expect(done.failure).toMatch(
      /the monitor has 1 alert\(s\) firing about shop\/production since the promotion: any-drift \(warning\)/,
    );
    const after = await world.registryCall("GET", "/v1/namespaces/shop/layers/production");
    expect(after.body.content).toEqual(before.body.content);
  });
});
