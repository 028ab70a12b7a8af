import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, HOOK_KEY, seedShop, startWorld, type World } from "./harness.js";

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A real HTTP receiver for http-hook steps, answering with the status it is told. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  status: { value: number };
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const status = { value: 204 };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.statusCode = status.value;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    status,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Failures after the promotion put production back on the revision it had. */
describe("automatic rollback", () => {
  let world: World;
  let hook: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    [world, hook] = await Promise.all([startWorld(), startReceiver()]);
    await seedShop(world);
    await world.startOrchestrator({ allowedHookUrls: [new URL("/hook", hook.url).href] });
  });
  afterAll(async () => {
    await world?.close();
    await hook?.close();
  });

  const run = (id: string) => world.call("GET", `/v1/runs/${id}`).then((r) => r.body);
  const production = async () =>
    (await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body;

  it("rolls back when wait-applied times out", async () => {
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-fast",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host"],
      steps: [{ type: "promote" }, { type: "wait-applied", timeoutSeconds: 2 }],
    });
    expect(created.status).toBe(201);
    const before = await production();
    const live = await world.resolved("shop", "production");
    await world.report("shop", "production", "prod-1", live);

    const id = (await world.call("POST", "/v1/pipelines/shop-fast/runs", {})).body.id as string;
    // The instance never moves to the promoted revision.
    const done = await eventually(
      () => run(id),
      (r) => r.status === "rolled-back" || r.status === "failed",
    );
    expect(done.status).toBe("rolled-back");
    expect(done.failure).toMatch(/wait-applied: not applied within 2 s: 0 of 1 live instance/);
    expect(done.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ["promote", "succeeded"],
      ["wait-applied", "failed"],
      ["rollback-on-failure", "succeeded"],
    ]);
    const after = await production();
    expect(after.content).toEqual(before.content);
    expect(after.revision).toBeGreaterThan(done.promotedRevision);

    const rolledBack = await eventually(
      async () => world.eventsOf("nexus.pipeline.rolled-back", id),
      (e) => e.length === 1,
    );
    expect(rolledBack[0]?.data).toMatchObject({
      fromRevision: done.promotedRevision,
      toRevision: before.revision,
      revision: after.revision,
    });
    const failed = await eventually(
      async () => world.eventsOf("nexus.pipeline.failed", id),
      (e) => e.length === 1,
    );
    expect(failed[0]?.data.rolledBack).toBe(true);
  });

  it("stops a cancelled run at the step it waits on and rolls back what it promoted", async () => {
    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { banner: "cancel-me" });
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-cancel",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      steps: [{ type: "promote" }, { type: "wait-applied", timeoutSeconds: 600 }],
    });
    expect(created.status).toBe(201);
    const before = await production();
    const id = (await world.call("POST", "/v1/pipelines/shop-cancel/runs", {})).body.id as string;
    await eventually(
      () => run(id),
      (r) => r.steps[1].status === "waiting",
    );
    expect((await production()).content.banner).toBe("cancel-me");
    // An approver of production is not an editor: only editors stop runs.
    expect((await world.call("POST", `/v1/runs/${id}/cancel`, undefined, world.tokens.bob)).status).toBe(403);
    const cancelled = await world.call("POST", `/v1/runs/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    const done = await eventually(
      () => run(id),
      (r) => r.status === "rolled-back" || r.status === "failed",
    );
    expect(done.status).toBe("rolled-back");
    expect(done.failure).toBe("wait-applied: cancelled by alice");
    expect((await production()).content).toEqual(before.content);
    const again = await world.call("POST", `/v1/runs/${id}/cancel`);
    expect(again.status).toBe(409);
  });

  it("does not roll back over a change someone else wrote after the promotion", async () => {
    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { banner: "overtaken" });
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-overtaken",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      steps: [{ type: "promote" }, { type: "wait-applied", timeoutSeconds: 2 }],
    });
    expect(created.status).toBe(201);
    const live = await world.resolved("shop", "production");
    await world.report("shop", "production", "prod-1", live);
    const id = (await world.call("POST", "/v1/pipelines/shop-overtaken/runs", {})).body.id as string;
    await eventually(
      () => run(id),
      (r) => r.steps[1].status === "waiting",
    );
    const hotfix = await world.registryCall("PATCH", "/v1/namespaces/shop/layers/production", {
      hotfix: true,
    });
    expect(hotfix.status).toBe(200);
    const done = await eventually(
      () => run(id),
      (r) => r.status === "failed" || r.status === "rolled-back",
    );
    expect(done.status).toBe("failed");
    expect(done.failure).toContain(`was written since this run promoted revision ${done.promotedRevision}`);
    const after = await production();
    expect(after.content.hotfix).toBe(true);
    expect(after.content.banner).toBe("overtaken");
  });

  it("rolls back when the health gate sees an instance reject the revision", async () => {
    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { banner: "gate" });
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-gated",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      steps: [{ type: "promote" }, { type: "health-gate", bakeSeconds: 30 }],
    });
    expect(created.status).toBe(201);
    const before = await production();
    const id = (await world.call("POST", "/v1/pipelines/shop-gated/runs", {})).body.id as string;
    const baking = await eventually(
      () => run(id),
      (r) => r.steps[1].status === "waiting",
    );
    const promoted = await world.resolved("shop", "production");
    expect(promoted.revision).toBe(baking.promotedRevision);
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
      (r) => r.status === "rolled-back" || r.status === "failed",
    );
    expect(done.status).toBe("rolled-back");
    expect(done.failure).toContain(`1 instance(s) rejected revision ${promoted.revision}`);
    expect(done.failure).toContain("prod-1: banner must not be empty");
    // Well within the 30 s bake: the gate fails as soon as it sees the rejection.
    expect(Date.parse(done.finishedAt) - Date.parse(done.createdAt)).toBeLessThan(20_000);
    expect((await production()).content).toEqual(before.content);
  });

  it("rolls back when a hook answers non-2xx, after sending it a signed body", async () => {
    await world.registryCall("PATCH", "/v1/namespaces/shop/layers/staging", { banner: "new" });
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-hooked",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      steps: [{ type: "promote" }, { type: "http-hook", url: hook.url }],
    });
    expect(created.status).toBe(201);
    const before = await production();
    hook.status.value = 500;
    const id = (await world.call("POST", "/v1/pipelines/shop-hooked/runs", {})).body.id as string;
    const done = await eventually(
      () => run(id),
      (r) => r.status === "rolled-back" || r.status === "failed",
    );
    expect(done.status).toBe("rolled-back");
    expect(done.failure).toContain("answered 500, expected 2xx");
    expect((await production()).content).toEqual(before.content);

    const call = hook.received.at(-1)!;
    const signature = createHmac("sha256", HOOK_KEY)
      .update(`${call.headers["x-nexus-timestamp"]}.${call.body}`)
      .digest("hex");
    expect(call.headers["x-nexus-signature"]).toBe(`sha256=${signature}`);
    expect(JSON.parse(call.body)).toMatchObject({ runId: id, promotedRevision: done.promotedRevision });
  });

  it("refuses a hook outside the URLs the operator allowed", async () => {
    const elsewhere = new URL("/admin", hook.url).href;
    const refused = await world.call("POST", "/v1/pipelines", {
      name: "shop-ssrf",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [{ type: "promote" }, { type: "http-hook", url: elsewhere }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "hook_url_not_allowed", field: "steps[1].url" });
  });

  it("refuses a run step naming a program the operator did not allow", async () => {
    const refused = await world.call("POST", "/v1/pipelines", {
      name: "shop-curl",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [{ type: "promote" }, { type: "run", command: ["curl", "http://example.invalid"] }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "command_not_allowed", field: "steps[1].command" });
  });

  it("runs a local command with the target's config in its environment and keeps its output", async () => {
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-smoke",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [
        {
          type: "run",
          name: "smoke",
          command: ["sh", "-c", 'echo "db=$NEXUS_CFG_REPLICAS"; echo "$NEXUS_CONFIG"'],
        },
        { type: "run", name: "slow", command: ["sleep", "5"], timeoutSeconds: 1 },
      ],
    });
    expect(created.status).toBe(201);
    const id = (await world.call("POST", "/v1/pipelines/shop-smoke/runs", {})).body.id as string;
    const done = await eventually(
      () => run(id),
      (r) => r.status === "failed",
    );
    const config = (await world.registryCall("GET", "/v1/namespaces/shop/environments/production/resolved"))
      .body;
    expect(done.steps[0].output).toContain(`db=${config.content.replicas}`);
    expect(done.steps[0].output).toContain(JSON.stringify(config.content));
    expect(done.steps[1].summary).toBe("sleep was stopped after 1 s");
    // Nothing was promoted, so nothing is rolled back.
    expect(done.steps).toHaveLength(2);
  });
});
