import { createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTwoWaveRollout, type TwoWaveRollout } from "../../../../test/support/two-wave-rollout.js";
import { seedShop, startWorld, type World } from "../../../orchestrator/test/integration/harness.js";
import { launchChromium, listenLocally, SHOTS } from "./dashboard-world.js";
import { type Harness, type JsonBody, startMonitor } from "./harness.js";

/**
 * The dashboard's rollouts view against the real orchestrator, registry and drift-detector: a wave
 * rollout holding one instance while the other's wave is current, through the monitor's relay with
 * the user's own token, and in Chromium until the rollout completes.
 */
let world: World;
let h: Harness;
let base: string;
let rollout: TwoWaveRollout;
let rolloutId: string;
let holdRevision: number;
let targetRevision: number;

const as = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  world = await startWorld();
  await seedShop(world);
  const orchestrator = await world.startOrchestrator({ watchPollMs: 200 });
  const orchestratorUrl = await listenLocally(orchestrator.app);
  const logger = createLogger({ service: "monitor-test", level: "silent" });
  h = await startMonitor(
    { orchestratorUrl, registryUrl: world.registryUrl },
    { authenticator: () => world.issuer.authenticator(logger), nats: world.registry.nats },
  );
  base = await listenLocally(h.app.app);

  rollout = await startTwoWaveRollout(world, "shop-dash-waves");
  ({ id: rolloutId, holdRevision, targetRevision } = rollout);
}, 120_000);
afterAll(async () => {
  await h?.close();
  await world?.close();
});

describe("monitor: rollouts view through the orchestrator", () => {
  it("relays the rollouts the caller may see, and the orchestrator's refusals as they are", async () => {
    const listed = await h.call("GET", "/v1/dashboard/rollouts", undefined, as(world.tokens.alice));
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((r: JsonBody) => r.id)).toContain(rolloutId);
    const detail = await h.call(
      "GET",
      `/v1/dashboard/rollouts/${rolloutId}`,
      undefined,
      as(world.tokens.alice),
    );
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ currentWave: 1, holdRevision, targetRevision });
    expect(detail.body.members.map((m: JsonBody) => [m.instanceId, m.state])).toEqual(
      [
        [rollout.early, "applying"],
        [rollout.late, "held"],
      ].sort((a, b) => (a[0] as string).localeCompare(b[0] as string)),
    );

    const outsider = await h.call("GET", "/v1/dashboard/rollouts", undefined, as(world.tokens.viewer));
    expect(outsider.body.items).toEqual([]);
    const refused = await h.call(
      "GET",
      `/v1/dashboard/rollouts/${rolloutId}`,
      undefined,
      as(world.tokens.viewer),
    );
    expect(refused.status).toBe(403);
    const bad = await h.call("GET", "/v1/dashboard/rollouts/not-a-uuid", undefined, as(world.tokens.alice));
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("id");
  });
});

describe("monitor: the rollouts view in a browser", () => {
  it("shows the waves with the current one marked and each instance's state, until the rollout completes", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${base}/dashboard`);
      await page.getByLabel("API token").fill(world.tokens.alice);
      await page.getByRole("button", { name: "Sign in" }).click();
      const row = page.locator(`#rollouts li[data-rollout="${rolloutId}"]`);
      await row.waitFor();
      expect(await row.textContent()).toMatch(
        new RegExp(
          `active shop-dash-waves: shop production, revision ${holdRevision} → ${targetRevision}, wave 1 of 2`,
        ),
      );
      await row.getByRole("button", { name: "Show rollout of shop-dash-waves" }).click();
      const current = page.locator('#rollout-waves li[aria-current="step"]');
      await current.waitFor();
      expect(await current.textContent()).toBe("Wave 1: 50% of instances — current");
      expect(await page.locator('#rollout-waves li[data-wave="2"]').textContent()).toBe(
        "Wave 2: 100% of instances — not released",
      );
      const { early, late } = rollout;
      const cells = (id: string) =>
        page.locator(`#rollout-members tr[data-instance="${id}"] td`).allTextContents();
      expect(await cells(early)).toEqual([
        early,
        "1",
        "applying",
        String(targetRevision),
        String(holdRevision),
      ]);
      expect(await cells(late)).toEqual([late, "2", "held", String(holdRevision), String(holdRevision)]);
      await page.screenshot({ path: `${SHOTS}dashboard-rollouts.png`, fullPage: true });

      // Both instances apply: the run succeeds, its events make the page read the rollout again.
      await rollout.applyFirstWave();
      const applied = await rollout.applySecondWave();
      await expect
        .poll(() => row.textContent(), { timeout: 20_000 })
        .toMatch(/completed shop-dash-waves.*completed, 2 wave\(s\)/);
      await expect.poll(() => page.locator('#rollout-waves li[aria-current="step"]').count()).toBe(0);
      await expect
        .poll(() => cells(late), { timeout: 10_000 })
        .toEqual([late, "2", "applied", String(applied), String(applied)]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
