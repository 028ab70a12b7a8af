import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, seedShop, sleep, startWorld, type World } from "./harness.js";

/** Event triggers, chained promotions, versions, and several orchestrators sharing the runs. */
describe("pipelines on events and across instances", () => {
  let world: World;
  const dir = mkdtempSync(join(tmpdir(), "nexus-orchestrator-share-"));

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    await world.startOrchestrator();
  });
  afterAll(async () => {
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (id: string) => world.call("GET", `/v1/runs/${id}`).then((r) => r.body);
  const runsOf = async (pipeline: string) =>
    (await world.call("GET", `/v1/runs?pipeline=${pipeline}`)).body.items as { id: string; status: string }[];

  it("carries a change written in development through staging to production with one approval", async () => {
    const toStaging = await world.call("POST", "/v1/pipelines", {
      name: "shop-dev-to-staging",
      namespace: "shop",
      source: "development",
      target: "staging",
      pinnedPaths: ["/db/host", "/replicas"],
      triggers: [{ type: "config.changed" }],
      steps: [{ type: "validate" }, { type: "promote" }],
    });
    expect(toStaging.status).toBe(201);
    const toProduction = await world.call("POST", "/v1/pipelines", {
      name: "shop-staging-to-production",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      triggers: [{ type: "config.changed" }],
      steps: [{ type: "approve" }, { type: "promote" }],
    });
    expect(toProduction.status).toBe(201);

    // The developer writes development; nothing else is done by hand but one approval.
    const write = await world.registryCall("PUT", "/v1/namespaces/shop/layers/development", {
      db: { host: "dev-db" },
      replicas: 1,
      checkout: { enabled: true },
      feature: { reviews: true },
    });
    expect(write.status).toBe(200);

    const [first] = await eventually(
      () => runsOf("shop-dev-to-staging"),
      (r) => r.length === 1 && r[0]?.status === "succeeded",
    );
    expect((await run(first!.id)).trigger).toBe("config.changed");
    const staging = (await world.registryCall("GET", "/v1/namespaces/shop/layers/staging")).body;
    expect(staging.content).toEqual({
      db: { host: "staging-db" },
      replicas: 2,
      checkout: { enabled: true },
      feature: { reviews: true },
    });

    const [second] = await eventually(
      () => runsOf("shop-staging-to-production"),
      (r) => r.length === 1 && r[0]?.status === "awaiting-approval",
    );
    const waiting = await run(second!.id);
    expect(waiting.sourceRevision).toBe(staging.revision);
    expect((await world.call("POST", `/v1/runs/${second!.id}/approve`, {}, world.tokens.bob)).status).toBe(
      200,
    );
    await eventually(
      () => run(second!.id),
      (r) => r.status === "succeeded",
    );
    const production = (await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body;
    expect(production.content).toEqual({
      db: { host: "prod-db" },
      replicas: 8,
      checkout: { enabled: true },
      feature: { reviews: true },
    });
    // Its own promotion into production starts nothing more (no pipeline reads production).
    expect(await runsOf("shop-dev-to-staging")).toHaveLength(1);
  });

  it("does not promote a pipeline's own rollback onwards", async () => {
    // The chain from the first test is in place; make the first hop fail after its promotion.
    const toStaging = await world.call("PUT", "/v1/pipelines/shop-dev-to-staging", {
      name: "shop-dev-to-staging",
      namespace: "shop",
      source: "development",
      target: "staging",
      pinnedPaths: ["/db/host", "/replicas"],
      triggers: [{ type: "config.changed" }],
      steps: [{ type: "promote" }, { type: "wait-applied", timeoutSeconds: 1 }],
    });
    expect(toStaging.status).toBe(200);
    await world.report("shop", "staging", "staging-1", await world.resolved("shop", "staging"));
    const stagingBefore = (await world.registryCall("GET", "/v1/namespaces/shop/layers/staging")).body;
    const onwardBefore = (await runsOf("shop-staging-to-production")).length;

    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/development", {
      feature: { reviews: false },
    });
    await eventually(
      () => runsOf("shop-dev-to-staging"),
      (r) => r.length === 2 && r[0]?.status === "rolled-back",
    );
    expect((await world.registryCall("GET", "/v1/namespaces/shop/layers/staging")).body.content).toEqual(
      stagingBefore.content,
    );
    // The promotion into staging started one onward run; the rollback of staging started none.
    await sleep(1_000);
    expect(await runsOf("shop-staging-to-production")).toHaveLength(onwardBefore + 1);
  });

  it("keeps every version of a pipeline; a run keeps the version it started with", async () => {
    const v1 = {
      name: "shop-versioned",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [{ type: "approve", approvals: 2 }],
    };
    expect((await world.call("POST", "/v1/pipelines", v1)).status).toBe(201);
    const id = (await world.call("POST", "/v1/pipelines/shop-versioned/runs", {})).body.id as string;
    await eventually(
      () => run(id),
      (r) => r.status === "awaiting-approval",
    );
    const v2 = await world.call("PUT", "/v1/pipelines/shop-versioned", {
      ...v1,
      steps: [{ type: "approve" }],
    });
    expect(v2.status).toBe(200);
    expect(v2.body.version).toBe(2);
    const versions = await world.call("GET", "/v1/pipelines/shop-versioned/versions");
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const mismatch = await world.call("PUT", "/v1/pipelines/shop-versioned", { ...v1, name: "other" });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.field).toBe("name");

    // Version 1 wanted two approvals: one is not enough for this run.
    await world.call("POST", `/v1/runs/${id}/approve`, {}, world.tokens.bob);
    await eventually(
      () => run(id),
      (r) => r.steps[0].summary === "waiting for approval: 1 of 2",
    );
    expect((await run(id)).pipelineVersion).toBe(1);
    await world.call("POST", `/v1/runs/${id}/approve`, {}, world.tokens.carol);
    await eventually(
      () => run(id),
      (r) => r.status === "succeeded",
    );
  });

  it("shares runs between three instances without running any step twice", async () => {
    await world.startOrchestrator();
    await world.startOrchestrator();
    const marks = join(dir, "marks");
    expect(
      (
        await world.call("POST", "/v1/pipelines", {
          name: "shop-shared",
          namespace: "shop",
          source: "staging",
          target: "production",
          steps: [
            { type: "run", name: "one", command: ["sh", "-c", `echo "$NEXUS_RUN_ID one" >> ${marks}`] },
            { type: "run", name: "two", command: ["sh", "-c", `echo "$NEXUS_RUN_ID two" >> ${marks}`] },
          ],
        })
      ).status,
    ).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await world.call("POST", "/v1/pipelines/shop-shared/runs", {})).body.id as string);
    await eventually(
      () => runsOf("shop-shared"),
      (r) => r.length === 12 && r.every((x) => x.status === "succeeded"),
      30_000,
    );
    const lines = readFileSync(marks, "utf8").trim().split("\n").sort();
    expect(lines).toEqual(ids.flatMap((id) => [`${id} one`, `${id} two`]).sort());
  });
});
