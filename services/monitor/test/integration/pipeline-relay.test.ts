import type { AddressInfo } from "node:net";
import { createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedShop, startWorld, type World } from "../../../orchestrator/test/integration/harness.js";
import { eventually, type Harness, type JsonBody, startMonitor } from "./harness.js";

/**
 * The dashboard's pipelines view against the real orchestrator (and the registry and
 * drift-detector it works with), built in this process and listening on a loopback port: the
 * monitor relays with the user's own token, the orchestrator decides who may approve.
 */
let world: World;
let h: Harness;
let unset: Harness;

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const runsAs = async (token: string): Promise<JsonBody[]> => {
  const res = await h.call("GET", "/v1/dashboard/runs", undefined, as(token));
  expect(res.status).toBe(200);
  return res.body.items;
};
const startAwaitingRun = async (): Promise<string> => {
  const started = await world.call("POST", "/v1/pipelines/to-production/runs", {});
  expect(started.status).toBe(201);
  const id = started.body.id as string;
  await eventually(
    () => world.call("GET", `/v1/runs/${id}`).then((r) => r.body.status),
    (s) => s === "awaiting-approval",
  );
  return id;
};

beforeAll(async () => {
  world = await startWorld();
  await seedShop(world);
  const orchestrator = await world.startOrchestrator();
  await orchestrator.app.listen({ host: "127.0.0.1", port: 0 });
  const orchestratorUrl = `http://127.0.0.1:${(orchestrator.app.server.address() as AddressInfo).port}`;
  const logger = createLogger({ service: "monitor-test", level: "silent" });
  h = await startMonitor(
    { orchestratorUrl, registryUrl: world.registryUrl },
    { authenticator: () => world.issuer.authenticator(logger) },
  );
  unset = await startMonitor();
  const created = await world.call("POST", "/v1/pipelines", {
    name: "to-production",
    namespace: "shop",
    source: "staging",
    target: "production",
    steps: [{ type: "approve" }],
  });
  expect(created.status).toBe(201);
}, 120_000);
afterAll(async () => {
  await h?.close();
  await unset?.close();
  await world?.close();
});

describe("monitor: pipelines view through the orchestrator", () => {
  it("lists a run awaiting approval, with mayDecide for an approver only, and hides it from outsiders", async () => {
    const id = await startAwaitingRun();
    const forBob = (await runsAs(world.tokens.bob)).find((r) => r.id === id);
    expect(forBob).toMatchObject({
      pipeline: "to-production",
      namespace: "shop",
      source: "staging",
      target: "production",
      status: "awaiting-approval",
      startedBy: expect.stringContaining("alice"),
      mayDecide: true,
    });
    expect((await runsAs(world.tokens.alice)).find((r) => r.id === id)?.mayDecide).toBe(false);
    expect((await runsAs(world.tokens.viewer)).map((r) => r.id)).not.toContain(id);
  });

  it("passes the orchestrator's refusals through as they are, then approves and rejects for an approver", async () => {
    const id = await startAwaitingRun();
    // The run's author may not approve it: the orchestrator's own answer, status and code.
    const direct = await world.call("POST", `/v1/runs/${id}/approve`, {}, world.tokens.alice);
    const relayed = await h.call("POST", `/v1/dashboard/runs/${id}/approve`, {}, as(world.tokens.alice));
    expect(relayed.status).toBe(direct.status);
    expect(relayed.status).toBeGreaterThanOrEqual(400);
    expect(relayed.status).toBeLessThan(500);
    expect(relayed.body.error.code).toBe(direct.body.error.code);
    expect(relayed.body.error.requestId).toBeTruthy();

    const approved = await h.call(
      "POST",
      `/v1/dashboard/runs/${id}/approve`,
      { comment: "looks right" },
      as(world.tokens.bob),
    );
    expect(approved.status).toBe(200);
    expect(approved.body.id).toBe(id);
    const done = await eventually(
      () => world.call("GET", `/v1/runs/${id}`).then((r) => r.body),
      (r) => r.status === "succeeded",
    );
    expect(done.decisions.some((d: JsonBody) => d.comment === "looks right")).toBe(true);
    expect((await runsAs(world.tokens.bob)).map((r) => r.id)).not.toContain(id);

    // Decided already: the orchestrator refuses a second decision, and the page hears why.
    const again = await h.call("POST", `/v1/dashboard/runs/${id}/reject`, {}, as(world.tokens.carol));
    expect(again.status).toBe(409);

    const second = await startAwaitingRun();
    const rejected = await h.call("POST", `/v1/dashboard/runs/${second}/reject`, {}, as(world.tokens.carol));
    expect(rejected.status).toBe(200);
    await eventually(
      () => world.call("GET", `/v1/runs/${second}`).then((r) => r.body.status),
      (s) => s === "failed",
    );
  });

  it("refuses bad input before asking, and answers 503 naming the orchestrator when it has none", async () => {
    const badId = await h.call("POST", "/v1/dashboard/runs/not-a-uuid/approve", {}, as(world.tokens.bob));
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toContain("id");
    const badBody = await h.call(
      "POST",
      "/v1/dashboard/runs/00000000-0000-4000-8000-000000000000/reject",
      { comment: 3 },
      as(world.tokens.bob),
    );
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.field).toContain("comment");
    const none = await unset.call("GET", "/v1/dashboard/runs");
    expect(none.status).toBe(503);
    expect(none.body.error.code).toBe("orchestrator_not_configured");
  });
});
