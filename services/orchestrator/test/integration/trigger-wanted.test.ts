import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, seedShop, startWorld, triggerDurable, type World } from "./harness.js";

/**
 * The orchestrator consumes `config.changed` only while something needs it (a pipeline triggered
 * by it, an active rollout): otherwise its durable does not exist and a change costs it nothing.
 */
describe("the trigger consumer, only while something needs config.changed", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    await world.startOrchestrator();
  });
  afterAll(async () => {
    await world?.close();
  });

  const pipeline = (name: string, triggers: { type: string }[]) => ({
    name,
    namespace: "shop",
    source: "staging",
    target: "production",
    triggers,
    steps: [{ type: "promote" }],
  });
  const runsOf = async (name: string) =>
    (await world.call("GET", `/v1/runs?pipeline=${name}`)).body.items as { trigger: string }[];

  it("has no durable without a triggered pipeline, one from its save on, and none after its deletion", async () => {
    expect(await triggerDurable(world)).toBeNull();
    expect((await world.call("POST", "/v1/pipelines", pipeline("shop-by-hand", []))).status).toBe(201);
    expect(await triggerDurable(world)).toBeNull();

    // In place before the save answered: the next write to staging starts a run.
    expect(
      (await world.call("POST", "/v1/pipelines", pipeline("shop-follows", [{ type: "config.changed" }])))
        .status,
    ).toBe(201);
    expect(await triggerDurable(world)).not.toBeNull();
    const write = await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { replicas: 3 });
    expect(write.status).toBe(200);
    const runs = await eventually(
      () => runsOf("shop-follows"),
      (r) => r.length === 1,
    );
    expect(runs[0]!.trigger).toBe("config.changed");

    expect((await world.call("DELETE", "/v1/pipelines/shop-follows")).status).toBe(204);
    expect(await triggerDurable(world)).toBeNull();
    expect(await runsOf("shop-by-hand")).toEqual([]);
  });
});
