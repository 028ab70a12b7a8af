import { CONFIG_APPLIED, type RevisionTimelineDto } from "@nexus/contracts";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness as Registry } from "../../../config-registry/test/integration/harness.js";
import { type DashboardWorld, launchChromium, SHOTS, startDashboardWorld } from "./dashboard-world.js";
import { eventually, type Harness } from "./harness.js";

/**
 * The dashboard's change timeline (`nexus trace` in the page) in Debian's Chromium, against the
 * real registry, drift-detector and monitor: from a revision in the revisions view, one change's
 * steps in time order and each instance's ack (one applied, one refused), with what the monitor
 * could not ask (no notifier or orchestrator here) said in words.
 */
describe("monitor: a change's timeline in the dashboard", () => {
  let world: DashboardWorld;
  let registry: Registry;
  let h: Harness;
  let browser: Browser;
  let base: string;
  let revision: number;

  beforeAll(async () => {
    world = await startDashboardWorld();
    ({ registry, monitor: h, base } = world);

    expect((await call(registry, "POST", "/v1/namespaces", { name: "trace-api" })).status).toBe(201);
    for (const replicas of [1, 2])
      expect(
        (await call(registry, "PUT", "/v1/namespaces/trace-api/layers/production", { replicas })).status,
      ).toBe(200);
    const resolved = await call(registry, "GET", "/v1/namespaces/trace-api/environments/production/resolved");
    revision = Number(resolved.headers["nexus-revision"]);
    const hash = String(resolved.headers.etag).replaceAll('"', "");
    const ack = {
      schemaVersion: 1 as const,
      service: "trace-api",
      namespace: "trace-api",
      environment: "production",
    };
    const at = {
      revision,
      hash,
      source: "live",
      trigger: "change",
      appliedAt: new Date().toISOString(),
    } as const;
    await registry.nats.bus.publish(CONFIG_APPLIED, { ...ack, ...at, status: "applied", instanceId: "tr-1" });
    await registry.nats.bus.publish(CONFIG_APPLIED, {
      ...ack,
      ...at,
      status: "rejected",
      instanceId: "tr-2",
      reason: "replicas above the node's limit",
    });
    // The grid (the revisions view's pickers) and the detector's reports are written by consumers.
    await eventually(
      async () => (await h.db.pool.query("SELECT count(*)::int AS n FROM config_heads")).rows[0].n,
      (n) => n >= 1,
    );
    const admin = await registry.tokenFor(["admin"], { name: "timeline-admin" });
    await eventually(
      async () =>
        (
          (await fetch(`${base}/v1/namespaces/trace-api/revisions/${revision}/timeline`, {
            headers: { authorization: `Bearer ${admin}` },
          }).then((r) => r.json())) as RevisionTimelineDto
        ).steps?.filter((s) => s.instance).length,
      (n) => n === 2,
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("opens a revision's timeline from the revisions view: its steps and each instance's ack", async () => {
    const token = await registry.tokenFor(["viewer:trace-api:*"], { name: "timeline-viewer" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/dashboard`);
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#rev-ns option").allTextContents()).toContain("trace-api");
    await page.locator("#rev-layer").selectOption("production");
    await page.getByRole("button", { name: "Show revisions" }).click();
    await page.getByRole("button", { name: `Trace ${revision}` }).click();

    await expect
      .poll(() => page.locator("#trace-status").textContent())
      .toBe(`Timeline of trace-api revision ${revision}, in time order.`);
    expect(await page.locator("#trace-summary").textContent()).toContain(
      `trace-api revision ${revision} (layer production)`,
    );
    // Each instance's ack on its own row, after the write.
    const instances = page.locator("#trace-instances tbody tr");
    expect(await instances.count()).toBe(2);
    expect(await page.locator('#trace-instances tr[data-instance="tr-1"]').textContent()).toContain(
      "applied",
    );
    const refused = page.locator('#trace-instances tr[data-instance="tr-2"]');
    expect(await refused.getAttribute("class")).toBe("rejected");
    expect(await refused.locator("time").textContent()).toMatch(/^\+\d/);
    // Every step in time order, the write first, with the service that recorded it.
    const kinds = await page
      .locator("#trace-steps tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-kind")));
    expect(kinds[0]).toBe("written");
    expect(kinds).toEqual(expect.arrayContaining(["published", "learnt", "applied", "rejected"]));
    const times = await page
      .locator("#trace-steps tbody time")
      .evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute("datetime") ?? "")));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await page.locator("#trace-steps tr[data-kind=rejected]").textContent()).toContain(
      "tr-2 (trace-api) rejected",
    );
    // What the monitor could not ask is said, not hidden.
    // Each service it could not ask once, however many of its parts were wanted (the notifier is
    // asked once per fingerprint: the change notice and the refusal's finding).
    const missing = await page.locator("#trace-missing li").allTextContents();
    expect(missing.filter((m) => m.includes("from notifier"))).toHaveLength(1);
    expect(missing.filter((m) => m.includes("from orchestrator"))).toHaveLength(1);
    expect(new Set(missing).size).toBe(missing.length);
    await page.screenshot({ path: `${SHOTS}dashboard-timeline.png`, fullPage: true });

    // Named directly: a revision that does not exist is said in words, and nothing stale stays.
    await page.getByLabel("Revision to trace").fill("999");
    await page.getByRole("button", { name: "Show timeline" }).click();
    await expect
      .poll(() => page.locator("#trace-status").textContent())
      .toMatch(/^Could not read the timeline of trace-api revision 999: /);
    expect(await page.locator("#trace-result").isHidden()).toBe(true);
    await page.close();
  });

  it("lays the timeline out as cards on a phone", async () => {
    const token = await registry.tokenFor(["viewer:trace-api:*"], { name: "timeline-phone" });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await page.goto(`${base}/dashboard`);
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("Namespace to trace").fill("trace-api");
    await page.getByLabel("Revision to trace").fill(String(revision));
    await page.getByRole("button", { name: "Show timeline" }).click();
    await expect.poll(() => page.locator("#trace-instances tbody tr").count()).toBe(2);
    // (Browser-side code as strings: this project's TypeScript has no DOM library.)
    const label = await page.evaluate(
      `getComputedStyle(document.querySelector('#trace-instances tr[data-instance="tr-1"] td'), '::before').content`,
    );
    expect(label).toBe('"Environment"');
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SHOTS}dashboard-timeline-phone.png`, fullPage: true });
    await page.close();
  });
});
