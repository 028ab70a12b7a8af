import { CONFIG_APPLIED } from "@nexus/contracts";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness as Registry } from "../../../config-registry/test/integration/harness.js";
import { type DashboardWorld, launchChromium, SHOTS, startDashboardWorld } from "./dashboard-world.js";
import { eventually, type Harness, startBeating } from "./harness.js";

/**
 * The dashboard in Debian's Chromium against the real registry, drift-detector and monitor: sign in
 * with a registry API token, see a configuration write appear within 1 s and an instance's ack move
 * convergence, on a laptop and a phone.
 */
describe("monitor: the dashboard in a browser", () => {
  let world: DashboardWorld;
  let registry: Registry;
  let h: Harness;
  let browser: Browser;
  let base: string;
  let beating: Awaited<ReturnType<typeof startBeating>>;

  beforeAll(async () => {
    // Production is protected: an editor's rollback there becomes a change request (202).
    world = await startDashboardWorld({
      registry: { protectedEnvironments: ["production"] },
      monitor: { expectedServices: ["config-registry"] },
    });
    ({ registry, monitor: h, base } = world);
    beating = await startBeating(h, "config-registry", "r-1", 0.5);
    for (const ns of ["pay-api", "hr-api"]) {
      expect((await call(registry, "POST", "/v1/namespaces", { name: ns })).status).toBe(201);
      expect(
        (await call(registry, "PUT", `/v1/namespaces/${ns}/layers/production`, { replicas: 1 })).status,
      ).toBe(200);
    }
    // The grid is written from config.changed by the monitor's durable consumer.
    await eventually(
      async () => (await h.db.pool.query("SELECT count(*)::int AS n FROM config_heads")).rows[0].n,
      (n) => n >= 2,
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await beating?.stop();
    await world?.close();
  });

  const signIn = async (page: Page, token: string) => {
    await page.goto(`${base}/dashboard`);
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
  };
  const revisionCell = (page: Page, key: string) => page.locator(`#grid tr[data-key="${key}"] .revision`);

  it("refuses a token the registry does not know, in words", async () => {
    const page = await browser.newPage();
    await signIn(page, "nxs_0123456789abcdef_notarealsecretnotarealsecretnotarealsecret0000");
    await expect.poll(() => page.locator("#login-error").textContent()).toBe("This token was not accepted.");
    expect(await page.locator("#board").isHidden()).toBe(true);
    await page.close();
  });

  it("shows a write within 1 s of it, and only the namespaces the token may view", async () => {
    const token = await registry.tokenFor(["viewer:pay-*:*"], { name: "dashboard-viewer" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, token);
    await page.locator('#grid tr[data-key="pay-api/production"]').waitFor();
    await expect.poll(() => page.locator("#live").textContent()).toContain("Live");
    expect(await page.locator('#grid tr[data-key="hr-api/production"]').count()).toBe(0);
    await expect
      .poll(() => page.locator('#services tr[data-service="config-registry"]').textContent())
      .toContain("up");
    const before = Number(await revisionCell(page, "pay-api/production").textContent());

    const written = Date.now();
    const write = await call(registry, "PUT", "/v1/namespaces/pay-api/layers/production", { replicas: 2 });
    expect(write.status).toBe(200);
    const revision = Number(write.headers["nexus-revision"] ?? before + 1);
    await revisionCell(page, "pay-api/production")
      .filter({ hasText: String(revision) })
      .waitFor({ timeout: 5_000 });
    const latencyMs = Date.now() - written;
    expect(revision).toBeGreaterThan(before);
    expect(latencyMs).toBeLessThan(1_000);
    expect(await page.locator('#grid tr[data-key="pay-api/production"] .actor').textContent()).toBe(
      "harness",
    );

    // A write the token may not view is not pushed to it.
    await call(registry, "PUT", "/v1/namespaces/hr-api/layers/production", { replicas: 3 });
    await page.waitForTimeout(300);
    expect(await page.locator('#grid tr[data-key="hr-api/production"]').count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}dashboard-laptop.png`, fullPage: true });
    await page.close();
  });

  it("moves convergence when an instance acks the revision", async () => {
    const token = await registry.tokenFor(["viewer:pay-*:*"], { name: "convergence-viewer" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, token);
    const convergence = page.locator('#grid tr[data-key="pay-api/production"] td[data-label="Convergence"]');
    await expect.poll(() => convergence.textContent(), { timeout: 10_000 }).toContain("0 applied");
    const resolved = await call(registry, "GET", "/v1/namespaces/pay-api/environments/production/resolved");
    const revision = Number(resolved.headers["nexus-revision"]);
    const hash = String(resolved.headers.etag).replaceAll('"', "");
    for (const instanceId of ["pay-1", "pay-2"])
      await registry.nats.bus.publish(CONFIG_APPLIED, {
        schemaVersion: 1,
        status: "applied",
        service: "pay-api",
        instanceId,
        namespace: "pay-api",
        environment: "production",
        revision,
        hash,
        source: "live",
        trigger: "change",
        appliedAt: new Date().toISOString(),
      });
    // No reload: the ack's hint over the stream makes the page read that one cell again.
    await expect.poll(() => convergence.textContent(), { timeout: 5_000 }).toContain("2 applied");
    expect(await page.locator("#drift-note").isHidden()).toBe(true);
    await page.screenshot({ path: `${SHOTS}dashboard-convergence.png`, fullPage: true });
    await page.close();
  });

  it("lists a layer's revisions, opens a diff and rolls back; production's rollback waits as a change request", async () => {
    for (const replicas of [1, 4])
      expect(
        (await call(registry, "PUT", "/v1/namespaces/pay-api/layers/staging", { replicas, tier: "web" }))
          .status,
      ).toBe(200);
    const token = await registry.tokenFor(["editor:pay-*:*"], { name: "dashboard-editor", owner: "erin" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, token);
    await page.locator('#grid tr[data-key="pay-api/staging"]').waitFor();
    await page.getByLabel("Namespace", { exact: true }).selectOption("pay-api");
    await page.getByLabel("Layer").selectOption("staging");
    await page.getByRole("button", { name: "Show revisions" }).click();
    const rows = page.locator("#revisions li");
    await expect.poll(() => rows.count()).toBe(2);
    const [newest, first] = (await rows.evaluateAll((lis) =>
      lis.map((li) => Number(li.getAttribute("data-revision"))),
    )) as number[];
    expect(newest).toBeGreaterThan(first!);

    await page.getByRole("button", { name: `Show diff of ${newest}` }).click();
    await expect.poll(() => page.locator("#rev-diff").textContent()).toContain("~ replicas = 4");
    expect(await page.locator("#rev-detail-title").textContent()).toContain(`revision ${newest} by harness`);
    // The newest revision is in force already: nothing to roll back to there.
    expect(await page.getByRole("button", { name: `Roll back to ${newest}` }).count()).toBe(0);

    await page.getByRole("button", { name: `Roll back to ${first}` }).click();
    await page.getByLabel("Reason (optional)").fill("replicas 4 was a mistake");
    await page.getByRole("button", { name: "Confirm rollback" }).click();
    await expect
      .poll(() => page.locator("#rev-status").textContent())
      .toContain("Rolled back: pay-api/staging");
    const resolved = await call(registry, "GET", "/v1/namespaces/pay-api/environments/staging/resolved");
    expect(resolved.body.content).toEqual({ replicas: 1, tier: "web" });
    const history = await call(registry, "GET", "/v1/namespaces/pay-api/layers/staging/revisions?limit=1");
    expect(history.body.items[0]).toMatchObject({
      author: "erin",
      message: "replicas 4 was a mistake",
    });
    // The grid moves live to the rollback's revision, and the list shows it on top.
    await revisionCell(page, "pay-api/staging")
      .filter({ hasText: String(history.body.items[0].revision) })
      .waitFor({ timeout: 5_000 });
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.locator("#rollback").isVisible()).toBe(false);
    await page.screenshot({ path: `${SHOTS}dashboard-rollback.png`, fullPage: true });

    // Production is protected: the same button files a change request and says so plainly.
    await page.getByLabel("Layer").selectOption("production");
    await page.getByRole("button", { name: "Show revisions" }).click();
    await expect.poll(() => page.locator("#rev-status").textContent()).toContain("of pay-api/production");
    const oldest = page.locator("#revisions li").last();
    await oldest.getByRole("button", { name: /Roll back to/ }).click();
    await page.getByRole("button", { name: "Confirm rollback" }).click();
    await expect
      .poll(() => page.locator("#rev-status").textContent())
      .toMatch(/Not yet rolled back: .*change request/);
    await page.close();
  });

  it("shows no rollback to a viewer, and the registry's redaction of secrets in a diff", async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const secretWrite = await call(registry, "PUT", "/v1/namespaces/pay-api/layers/staging", {
      replicas: 1,
      tier: "web",
      password: { $secret: canary },
    });
    expect(secretWrite.status).toBe(200);
    const token = await registry.tokenFor(["viewer:pay-*:*"], { name: "revision-viewer" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, token);
    await page.locator('#grid tr[data-key="pay-api/staging"]').waitFor();
    await page.getByLabel("Namespace", { exact: true }).selectOption("pay-api");
    await page.getByLabel("Layer").selectOption("staging");
    await page.getByRole("button", { name: "Show revisions" }).click();
    await expect.poll(() => page.locator("#revisions li").count()).toBeGreaterThan(1);
    expect(await page.getByRole("button", { name: /Roll back to/ }).count()).toBe(0);
    const newest = Number(await page.locator("#revisions li").first().getAttribute("data-revision"));
    await page.getByRole("button", { name: `Show diff of ${newest}` }).click();
    await expect.poll(() => page.locator("#rev-diff").textContent()).toContain("+ password");
    expect(await page.content()).not.toContain(canary);
    // Asked directly, the monitor passes the registry's refusal on as it came: 404 for a namespace the
    // token may not see, with the monitor's own error shape.
    const hidden = await fetch(`${base}/v1/dashboard/layers/hr-api/production/revisions`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as { error: { code: string } }).error.code).toMatch(/not_found/);
    const refused = await fetch(`${base}/v1/dashboard/layers/pay-api/staging/rollback`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ revision: 1 }),
    });
    expect(refused.status).toBe(403);
    const bad = await fetch(`${base}/v1/dashboard/layers/pay-api/staging/rollback`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ revision: "latest" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toContain("revision");
    await page.close();
  });

  it("compares two environments key by key with provenance, secrets masked", async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    expect((await call(registry, "POST", "/v1/namespaces", { name: "cmp-api" })).status).toBe(201);
    const writes = [
      ["staging", { replicas: 2, tier: "web", password: { $secret: canary } }],
      ["production", { replicas: 5 }],
    ] as const;
    for (const [layer, content] of writes)
      expect((await call(registry, "PUT", `/v1/namespaces/cmp-api/layers/${layer}`, content)).status).toBe(
        200,
      );
    const token = await registry.tokenFor(["viewer:cmp-*:*"], { name: "compare-viewer" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, token);
    await page.locator('#grid tr[data-key="cmp-api/staging"]').waitFor();
    await page.locator('#grid tr[data-key="cmp-api/production"]').waitFor();
    await page.getByLabel("Namespace to compare").selectOption("cmp-api");
    await page.getByLabel("From environment").selectOption("staging");
    await page.getByLabel("To environment").selectOption("production");
    await page.getByRole("button", { name: "Compare" }).click();
    await expect.poll(() => page.locator("#compare li").count()).toBeGreaterThan(1);
    const lines = await page.locator("#compare li").allTextContents();
    expect(lines.find((l) => l.includes("replicas"))).toMatch(
      /replicas: 2 in staging \(from staging r\d+\) → 5 in production \(from production r\d+\)/,
    );
    expect(lines.find((l) => l.includes("tier"))).toMatch(/− tier = web in staging/);
    expect(await page.locator("#cmp-status").textContent()).toMatch(
      /cmp-api: staging \(revision \d+\) → production/,
    );
    expect(await page.content()).not.toContain(canary);
    await page.screenshot({ path: `${SHOTS}dashboard-compare.png`, fullPage: true });
    await page.close();
  });

  it("is usable on a phone: labelled rows as cards, no sideways scrolling", async () => {
    const token = await registry.tokenFor(["viewer:*:*"], { name: "phone" });
    const page = await browser.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await signIn(page, token);
    await page.locator('#grid tr[data-key="hr-api/production"]').waitFor();
    // Evaluated in the page (strings: this file is compiled without the DOM's types).
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    const label = await page.evaluate<string>(
      `getComputedStyle(document.querySelector('#grid tr[data-key="hr-api/production"] td:nth-child(3)'), "::before").content`,
    );
    expect(label).toBe('"Revision"');
    await page.screenshot({ path: `${SHOTS}dashboard-phone.png`, fullPage: true });
    await page.close();
  });
});
