import { createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedShop, startWorld, type World } from "../../../orchestrator/test/integration/harness.js";
import { launchChromium, listenLocally, SHOTS } from "./dashboard-world.js";
import { eventually, type Harness, type JsonBody, startMonitor } from "./harness.js";

/**
 * The dashboard's pipelines and comparison views against the real orchestrator and registry (and
 * the drift-detector), built in this process and listening on loopback ports: the monitor relays
 * with the user's own token; the orchestrator decides who may approve, the registry who may read.
 */
let world: World;
let h: Harness;
let unset: Harness;
let base: string;

interface Frame {
  event: string;
  data: JsonBody;
}
/** The dashboard's event stream as `token` sees it, over real HTTP. */
async function openStream(token: string): Promise<{ frames: Frame[]; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${base}/v1/dashboard/events`, { headers: as(token), signal: abort.signal });
  expect(res.status).toBe(200);
  const frames: Frame[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
        const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
        if (event && data) frames.push({ event, data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  return { frames, close: () => abort.abort() };
}

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
  const orchestratorUrl = await listenLocally(orchestrator.app);
  const logger = createLogger({ service: "monitor-test", level: "silent" });
  h = await startMonitor(
    { orchestratorUrl, registryUrl: world.registryUrl },
    { authenticator: () => world.issuer.authenticator(logger), nats: world.registry.nats },
  );
  base = await listenLocally(h.app.app);
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
    const bobs = await openStream(world.tokens.bob);
    const outsiders = await openStream(world.tokens.viewer);
    await eventually(
      async () => h.app.hub.size(),
      (n) => n === 2,
    );
    const id = await startAwaitingRun();
    // The page hears that shop/production's pipelines moved (and asks again); an outsider hears nothing.
    await eventually(
      async () => bobs.frames.filter((f) => f.event === "pipeline"),
      (list) => list.some((f) => f.data.namespace === "shop" && f.data.environment === "production"),
    );
    expect(outsiders.frames.filter((f) => f.event === "pipeline")).toEqual([]);
    bobs.close();
    outsiders.close();
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

describe("monitor: environment comparison through the registry", () => {
  const compare = (token: string, query: string) =>
    h.call("GET", `/v1/dashboard/namespaces/shop/compare?${query}`, undefined, as(token));

  it("answers what the registry answers for the same token, provenance included", async () => {
    const relayed = await compare(world.tokens.alice, "from=staging&to=production");
    expect(relayed.status).toBe(200);
    const direct = await world.registryCall("GET", "/v1/namespaces/shop/compare?from=staging&to=production");
    expect(relayed.body).toEqual(direct.body);
    const replicas = relayed.body.changes.find((c: JsonBody) => c.path === "/replicas");
    expect(replicas).toMatchObject({
      op: "replace",
      from: 2,
      to: 8,
      fromSource: { layer: "staging" },
      toSource: { layer: "production" },
    });
  });

  it("passes the registry's refusals through and refuses bad input itself", async () => {
    // A token for another namespace: whatever the registry says to it (it hides the namespace), said again.
    const outsider = await compare(world.tokens.viewer, "from=staging&to=production");
    const direct = await fetch(`${world.registryUrl}/v1/namespaces/shop/compare?from=staging&to=production`, {
      headers: as(world.tokens.viewer),
    });
    const directBody = (await direct.json()) as JsonBody;
    expect(direct.status).toBeGreaterThanOrEqual(400);
    expect(outsider.status).toBe(direct.status);
    expect(outsider.body.error.code).toBe(directBody.error.code);
    const missing = await compare(world.tokens.alice, "from=staging");
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toContain("to");
    const none = await unset.call("GET", "/v1/dashboard/namespaces/shop/compare?from=staging&to=production");
    expect(none.status).toBe(503);
    expect(none.body.error.code).toBe("registry_not_configured");
  });
});

describe("monitor: the pipelines view in a browser", () => {
  it("shows a run awaiting approval to an approver, approves it, and drops it when the run ends", async () => {
    const id = await startAwaitingRun();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${base}/dashboard`);
      await page.getByLabel("API token").fill(world.tokens.bob);
      await page.getByRole("button", { name: "Sign in" }).click();
      const row = page.locator(`#runs li[data-run="${id}"]`);
      await row.waitFor();
      expect(await row.textContent()).toMatch(/awaiting approval.*to-production: shop staging → production/);
      await page.getByLabel("Comment for an approval or rejection (optional)").fill("from the browser");
      await page.screenshot({ path: `${SHOTS}dashboard-pipelines.png`, fullPage: true });
      await row.getByRole("button", { name: "Approve to-production" }).click();
      await expect.poll(() => page.locator("#runs-status").textContent()).toMatch(/^Approved: to-production/);
      // The run finishes after the approval: the orchestrator's events make the page ask again.
      await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
      const run = await world.call("GET", `/v1/runs/${id}`);
      expect(run.body.status).toBe("succeeded");
      expect(run.body.decisions.some((d: JsonBody) => d.comment === "from the browser")).toBe(true);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
