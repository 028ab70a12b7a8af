import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, seedShop, sleep, startWorld, type World } from "./harness.js";

/** Scheduled pipelines: one instance fires (lease), each time once, a missed time caught up once. */
describe("schedules", () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
  });
  afterAll(async () => world?.close());

  const pipeline = (name: string, cron: string, misfireGraceSeconds: number) => ({
    name,
    namespace: "shop",
    source: "staging",
    target: "production",
    triggers: [{ type: "schedule", cron, misfireGraceSeconds }],
    steps: [{ type: "run", command: ["true"] }],
  });
  const scheduledRuns = async (name: string) =>
    (
      await world.db.pool.query(
        "SELECT id, trigger FROM runs WHERE pipeline = $1 AND trigger = 'schedule' ORDER BY created_at",
        [name],
      )
    ).rows;
  const fires = async (name: string) =>
    (
      await world.db.pool.query(
        "SELECT fire_at, run_id FROM schedule_fires WHERE pipeline = $1 ORDER BY fire_at",
        [name],
      )
    ).rows as { fire_at: Date; run_id: string | null }[];

  it("refuses a pattern croner does not know, naming the field", async () => {
    await world.startOrchestrator({ scheduleTickMs: 200, leaseRetryMs: 200 });
    const bad = await world.call("POST", "/v1/pipelines", pipeline("bad-cron", "every minute", 60));
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("triggers[0].cron");
  });

  it("fires each scheduled time once, with two instances running", async () => {
    await world.startOrchestrator({ scheduleTickMs: 200, leaseRetryMs: 200 });
    expect((await world.call("POST", "/v1/pipelines", pipeline("every-2s", "*/2 * * * * *", 1))).status).toBe(
      201,
    );
    await eventually(
      () => fires("every-2s"),
      (f) => f.length >= 3,
      15_000,
    );
    // Stop the schedule (a new version without it) and let what fired finish.
    const off = await world.call("PUT", "/v1/pipelines/every-2s", {
      ...pipeline("every-2s", "*/2 * * * * *", 1),
      triggers: [{ type: "manual" }],
    });
    expect(off.status).toBe(200);
    await sleep(500);
    const fired = await fires("every-2s");
    const runs = await scheduledRuns("every-2s");
    expect(runs.map((r) => r.id).sort()).toEqual(fired.map((f) => f.run_id).sort());
    const times = fired.map((f) => f.fire_at.getTime());
    expect(new Set(times).size).toBe(times.length);
    for (const t of times) expect(t % 2_000).toBe(0);
    await eventually(
      async () => (await world.call("GET", "/v1/runs?pipeline=every-2s")).body.items,
      (items: { status: string }[]) => items.every((r) => r.status === "succeeded"),
    );
  });

  it("fires a time missed while no instance ran once, when one starts within the grace", async () => {
    const at = new Date(Math.ceil((Date.now() + 3_000) / 1_000) * 1_000);
    const cron = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
    expect((await world.call("POST", "/v1/pipelines", pipeline("nightly", cron, 60))).status).toBe(201);
    const listed = await world.call("GET", "/v1/schedules");
    expect(listed.body.items.find((s: { pipeline: string }) => s.pipeline === "nightly")).toMatchObject({
      cron,
      timezone: "UTC",
      nextFireAt: at.toISOString(),
      lastFire: null,
    });
    await world.stopOrchestrator();
    while (Date.now() < at.getTime() + 1_000) await sleep(200);
    expect(await fires("nightly")).toEqual([]);

    await world.startOrchestrator({ scheduleTickMs: 200, leaseRetryMs: 200 });
    const [fire] = await eventually(
      () => fires("nightly"),
      (f) => f.length === 1 && f[0]?.run_id !== null,
    );
    expect(fire?.fire_at.toISOString()).toBe(at.toISOString());
    // Another restart within the grace does not fire the same time again.
    await world.stopOrchestrator();
    await world.startOrchestrator({ scheduleTickMs: 200, leaseRetryMs: 200 });
    await sleep(1_000);
    expect(await scheduledRuns("nightly")).toHaveLength(1);
    const shown = await world.call("GET", "/v1/schedules");
    expect(shown.body.items.find((s: { pipeline: string }) => s.pipeline === "nightly").lastFire.runId).toBe(
      fire?.run_id,
    );
  });
});
