/** `nexus rollout list/show` in-process against the real orchestrator, registry and drift-detector. */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  seedShop,
  startWorld,
  type World,
} from "../../../../services/orchestrator/test/integration/harness.js";
import { startTwoWaveRollout } from "../../../../test/support/two-wave-rollout.js";
import { runNexus } from "./in-process.js";

describe("nexus rollout", () => {
  let world: World;
  let url: string;

  const nexus = (token: string, ...args: string[]) =>
    runNexus({ NEXUS_ORCHESTRATOR_URL: url, NEXUS_TOKEN: token }, args);

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    const app = await world.startOrchestrator({ watchPollMs: 200 });
    await app.app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await world?.close();
  });

  it("lists and shows a rollout: its waves, the current one, and each instance's state", async () => {
    const rollout = await startTwoWaveRollout(world, "shop-cli-waves");
    const { id, early, late, holdRevision: before, targetRevision: target } = rollout;

    const listed = await nexus(world.tokens.alice, "rollout", "list", "--environment", "production");
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
      new RegExp(`${id}\\s+shop-cli-waves\\s+shop\\s+production\\s+${before} → ${target}\\s+wave 1 of 2`),
    );
    const elsewhere = await nexus(world.tokens.alice, "rollout", "list", "--environment", "staging");
    expect(elsewhere.out).toBe("no rollouts\n");

    const shown = await nexus(world.tokens.alice, "rollout", "show", id);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`▶ wave 1: 50% (current)`);
    expect(shown.out).toContain(`· wave 2: 100%`);
    expect(shown.out).toMatch(new RegExp(`${early}\\s+1\\s+applying\\s+${target}\\s+${before}\\s+live`));
    expect(shown.out).toMatch(new RegExp(`${late}\\s+2\\s+held\\s+${before}\\s+${before}\\s+live`));

    // Someone who may not view shop in production sees neither the rollout nor its listing.
    const refused = await nexus(world.tokens.viewer, "rollout", "show", id);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/forbidden|not allowed|may not/i);
    const hidden = await nexus(world.tokens.viewer, "--json", "rollout", "list");
    expect(JSON.parse(hidden.out).items).toEqual([]);

    // The first wave applies, the second is released, then everyone applies: completed.
    await rollout.applyFirstWave();
    await rollout.applySecondWave();
    await eventually(rollout.read, (r) => r.status === "completed", 20_000);
    const done = JSON.parse((await nexus(world.tokens.alice, "--json", "rollout", "show", id)).out);
    expect(done).toMatchObject({ status: "completed", currentWave: null, inventoryError: null });
    expect(done.waves.map((w: { released: boolean }) => w.released)).toEqual([true, true]);
    expect(done.members.map((m: { state: string }) => m.state)).toEqual(["applied", "applied"]);

    const missing = await nexus(
      world.tokens.alice,
      "rollout",
      "show",
      "00000000-0000-4000-8000-000000000000",
    );
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain("no rollout");
  }, 90_000);
});
