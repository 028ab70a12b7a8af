import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, seedShop, startWorld, type World } from "./harness.js";

/**
 * Promotion end to end against the real registry (HTTP + NATS) and the real drift-detector
 * (instances from heartbeats): one approval, an exact source revision, pinned paths kept, the
 * rollout watched until every live instance runs it.
 */
describe("promotion from staging to production", () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    await world.startOrchestrator();
  });
  afterAll(async () => {
    await world?.close();
  });

  const pipelineYaml = `
name: shop-to-production
namespace: shop
source: staging
target: production
pinnedPaths: [/db/host, /replicas]
steps:
  - type: validate
  - type: approve
    approvals: 1
  - type: promote
  - type: wait-applied
    percent: 100
    timeoutSeconds: 20
  - type: health-gate
    bakeSeconds: 1
`;

  const run = (id: string) => world.call("GET", `/v1/runs/${id}`).then((r) => r.body);

  it("refuses a pipeline with a bad field, naming it", async () => {
    const bad = await world.call(
      "POST",
      "/v1/pipelines",
      pipelineYaml.replace("percent: 100", "percent: 140"),
      undefined,
      "application/yaml",
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_pipeline");
    expect(bad.body.error.field).toBe("steps[3].percent");
    const early = await world.call("POST", "/v1/pipelines", {
      name: "early",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [{ type: "wait-applied" }, { type: "promote" }],
    });
    expect(early.status).toBe(400);
    expect(early.body.error.field).toBe("steps[0].type");
    const syntax = await world.call(
      "POST",
      "/v1/pipelines",
      "name: [unclosed",
      undefined,
      "application/yaml",
    );
    expect(syntax.status).toBe(400);
    expect(syntax.body.error.message).toMatch(/line 1/);
    // A viewer of another namespace may not create one here.
    const denied = await world.call(
      "POST",
      "/v1/pipelines",
      pipelineYaml,
      world.tokens.viewer,
      "application/yaml",
    );
    expect(denied.status).toBe(403);
    const list = await world.call("GET", "/v1/pipelines");
    expect(list.body.items).toEqual([]);
  });

  it("promotes an exact staging revision after one approval, keeps pinned paths, waits until applied", async () => {
    const created = await world.call("POST", "/v1/pipelines", pipelineYaml, undefined, "application/yaml");
    expect(created.status).toBe(201);
    expect(created.body.version).toBe(1);
    expect(created.body.definition.steps.map((s: { name: string }) => s.name)).toEqual([
      "validate",
      "approve",
      "promote",
      "wait-applied",
      "health-gate",
    ]);

    // Two live production instances on the current production revision.
    const before = await world.resolved("shop", "production");
    await world.report("shop", "production", "prod-1", before);
    await world.report("shop", "production", "prod-2", before);
    const productionBefore = (await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body;

    const started = await world.call("POST", "/v1/pipelines/shop-to-production/runs", {});
    expect(started.status).toBe(201);
    const id = started.body.id as string;
    const stagingRevision = started.body.sourceRevision as number;

    // A write to staging after the start must not be what gets promoted.
    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { late: true });

    const waiting = await eventually(
      () => run(id),
      (r) => r.status === "awaiting-approval",
    );
    expect(waiting.steps[0].status).toBe("succeeded");
    expect(waiting.steps[1].status).toBe("waiting");
    // Approvers see what will be written (the pinned revision's content, not the later write).
    expect(waiting.steps[1].output).toBe(
      `production revision ${productionBefore.revision} would change:\nadd /checkout = {"enabled":true}`,
    );

    // The author may not approve; an approver of production may.
    const own = await world.call("POST", `/v1/runs/${id}/approve`, {});
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe("forbidden");
    const approved = await world.call(
      "POST",
      `/v1/runs/${id}/approve`,
      { comment: "looks right" },
      world.tokens.bob,
    );
    expect(approved.status).toBe(200);
    const twice = await world.call("POST", `/v1/runs/${id}/approve`, {}, world.tokens.bob);
    expect(twice.status).toBe(409);

    const promoting = await eventually(
      () => run(id),
      (r) => r.steps[3].status === "waiting",
    );
    const promoted = promoting.promotedRevision as number;
    expect(promoted).toBeGreaterThan(productionBefore.revision);
    const production = (await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body;
    expect(production.revision).toBe(promoted);
    // Staging's overlay at the pinned revision, with production's own host and size.
    expect(production.content).toEqual({ db: { host: "prod-db" }, replicas: 8, checkout: { enabled: true } });
    const history = await world.registryCall(
      "GET",
      `/v1/namespaces/shop/layers/production/revisions/${promoted}`,
    );
    expect(history.body.author).toBe("pipeline:shop-to-production");
    expect(history.body.message).toContain(`staging revision ${stagingRevision}`);

    // One instance applies: 50 % is not enough.
    const after = await world.resolved("shop", "production");
    expect(after.revision).toBe(promoted);
    await world.report("shop", "production", "prod-1", after);
    await eventually(
      () => run(id),
      (r) => /1 of 2/.test(r.steps[3].summary ?? ""),
    );
    expect((await run(id)).status).toBe("running");
    await world.report("shop", "production", "prod-2", after);

    const done = await eventually(
      () => run(id),
      (r) => r.status === "succeeded",
    );
    expect(done.steps.map((s: { status: string; attempts: number }) => [s.status, s.attempts])).toEqual(
      Array(5).fill(["succeeded", 1]),
    );
    expect(done.decisions).toMatchObject([{ actor: "bob", decision: "approve", comment: "looks right" }]);

    // The outbox keeps each subject's order, not the order across subjects: the run's last
    // step-succeeded may arrive after its pipeline.succeeded.
    const count = (t: string[], type: string) => t.filter((x) => x === type).length;
    const types = await eventually(
      async () => world.events.filter((e) => e.data.runId === id).map((e) => e.type),
      (t) =>
        t.includes("nexus.pipeline.succeeded") &&
        count(t, "nexus.pipeline.step-succeeded") >= 5 &&
        count(t, "nexus.pipeline.step-started") >= 5,
    );
    expect(types.filter((t) => t === "nexus.pipeline.step-succeeded")).toHaveLength(5);
    expect(types.filter((t) => t === "nexus.pipeline.step-started")).toHaveLength(5);
    expect(types).toContain("nexus.pipeline.awaiting-approval");
    expect(world.eventsOf("nexus.pipeline.approved", id)[0]?.data.approvers).toEqual(["bob"]);
    expect(world.eventsOf("nexus.pipeline.succeeded", id)[0]?.data.promotedRevision).toBe(promoted);
    expect(world.eventsOf("nexus.pipeline.started", id)[0]?.subject).toBe(`pipeline-run/${id}`);
  });

  it("stops at validate when the promoted document would break a policy of the target", async () => {
    const admin = await world.issuer.token(["admin"], { subject: "root" });
    const policy = await world.detector.app.app.inject({
      method: "POST",
      url: "/v1/policies",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      payload: JSON.stringify({
        name: "few-replicas",
        environment: "production",
        rules: [{ op: "min", path: "replicas", value: 4 }],
      }),
    });
    expect(policy.statusCode).toBe(201);
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-checked",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [{ type: "validate" }, { type: "promote" }],
    });
    expect(created.status).toBe(201);
    const before = (await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body;
    const id = (await world.call("POST", "/v1/pipelines/shop-checked/runs", {})).body.id as string;
    const done = await eventually(
      () => run(id),
      (r) => r.status === "failed",
    );
    // Without pinning, staging's 2 replicas would be copied; production's policy wants at least 4.
    expect(done.steps[0].status).toBe("failed");
    expect(done.failure).toMatch(
      /validate: the promoted document would break 1 rule\(s\): policy few-replicas at replicas/,
    );
    expect(done.steps[1].status).toBe("pending");
    expect((await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body.revision).toBe(
      before.revision,
    );
    // With replicas pinned, production keeps its 8 and the same check passes.
    const pinned = await world.call("PUT", "/v1/pipelines/shop-checked", {
      name: "shop-checked",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      steps: [{ type: "validate" }],
    });
    expect(pinned.status).toBe(200);
    const second = (await world.call("POST", "/v1/pipelines/shop-checked/runs", {})).body.id as string;
    const passed = await eventually(
      () => run(second),
      (r) => r.status === "succeeded" || r.status === "failed",
    );
    expect(passed.steps[0].summary).toBe(
      "the promoted document passes 1 production policy (the namespace has no schema)",
    );
    await world.detector.app.app.inject({
      method: "DELETE",
      url: `/v1/policies/${policy.json().id}`,
      headers: { authorization: `Bearer ${admin}` },
    });
  });

  it("refuses to promote overlays that hold secrets, writing nothing", async () => {
    const root = await world.issuer.token(["admin"], { subject: "root" });
    expect((await world.registryCall("POST", "/v1/namespaces", { name: "vault" })).status).toBe(201);
    const put = (layer: string, content: unknown) =>
      world.registryCall("PUT", `/v1/namespaces/vault/layers/${layer}`, content);
    expect((await put("base", { app: "vault" })).status).toBe(200);
    expect((await put("staging", { level: 2, db: { password: { $secret: "staging-pw" } } })).status).toBe(
      200,
    );
    expect((await put("production", { level: 1 })).status).toBe(200);
    // Layer and revision reads say where the layer stores secrets: what the promote step checks.
    const staging = (await world.registryCall("GET", "/v1/namespaces/vault/layers/staging")).body;
    expect(staging.secretPaths).toEqual(["/db/password"]);
    const stagingAt = await world.registryCall(
      "GET",
      `/v1/namespaces/vault/layers/staging/revisions/${staging.revision}`,
    );
    expect(stagingAt.body.secretPaths).toEqual(["/db/password"]);
    const before = (await world.registryCall("GET", "/v1/namespaces/vault/layers/production")).body;
    expect(before.secretPaths).toEqual([]);
    const created = await world.call(
      "POST",
      "/v1/pipelines",
      {
        name: "vault-up",
        namespace: "vault",
        source: "staging",
        target: "production",
        steps: [{ type: "promote" }],
      },
      root,
    );
    expect(created.status).toBe(201);
    const id = (await world.call("POST", "/v1/pipelines/vault-up/runs", {}, root)).body.id as string;
    const done = await eventually(
      () => world.call("GET", `/v1/runs/${id}`, undefined, root).then((r) => r.body),
      (r) => r.status === "failed",
    );
    expect(done.failure).toContain("the staging overlay at /db/password holds secrets");
    const after = (await world.registryCall("GET", "/v1/namespaces/vault/layers/production")).body;
    expect(after.revision).toBe(before.revision);
    expect(JSON.stringify(after.content)).not.toContain("staging-pw");
  });

  it("binds an approval to the target revision it previewed", async () => {
    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { banner: "bound" });
    const id = (await world.call("POST", "/v1/pipelines/shop-to-production/runs", {})).body.id as string;
    await eventually(
      () => run(id),
      (r) => r.status === "awaiting-approval",
    );
    // Someone changes production after the preview was computed, before the approval lands.
    const hotfix = await world.registryCall("PATCH", "/v1/namespaces/shop/layers/production", { hotfix: 1 });
    expect(hotfix.status).toBe(200);
    expect((await world.call("POST", `/v1/runs/${id}/approve`, {}, world.tokens.bob)).status).toBe(200);
    const done = await eventually(
      () => run(id),
      (r) => r.status === "failed" || r.status === "succeeded",
    );
    expect(done.status).toBe("failed");
    expect(done.failure).toContain("production changed since the promotion was approved");
    expect((await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body.revision).toBe(
      hotfix.body.revision,
    );
  });

  it("stops a run an approver rejects, writing nothing", async () => {
    const productionBefore = (await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body;
    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { replicas: 3, banner: "sale" });
    const started = await world.call("POST", "/v1/pipelines/shop-to-production/runs", {});
    const id = started.body.id as string;
    await eventually(
      () => run(id),
      (r) => r.status === "awaiting-approval",
    );
    const rejected = await world.call(
      "POST",
      `/v1/runs/${id}/reject`,
      { comment: "not during the sale" },
      world.tokens.carol,
    );
    expect(rejected.status).toBe(200);
    const done = await eventually(
      () => run(id),
      (r) => r.status === "failed",
    );
    expect(done.failure).toContain("rejected by carol: not during the sale");
    expect(done.steps[2].status).toBe("pending");
    const production = (await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body;
    expect(production.revision).toBe(productionBefore.revision);
    const failed = await eventually(
      async () => world.eventsOf("nexus.pipeline.failed", id),
      (e) => e.length === 1,
    );
    expect(failed[0]?.data).toMatchObject({ rolledBack: false, step: { name: "approve" } });
    // A decided run takes no more decisions.
    const late = await world.call("POST", `/v1/runs/${id}/approve`, {}, world.tokens.bob);
    expect(late.status).toBe(409);
  });
});
