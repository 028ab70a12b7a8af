import { connectConfig, type NexusConfig } from "@nexus/client";
import { type CloudEvent, RolloutGateReply, rolloutGateSubject } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type JsonBody, seedShop, startWorld, triggerDurable, type World } from "./harness.js";

type Shop = { checkout?: { enabled?: boolean; mode?: string }; replicas?: number };

/**
 * Wave rollouts with real @nexus/client instances (NATS reads, acks and heartbeats to the real
 * drift-detector): instances outside the released waves keep the previous revision until their
 * wave comes, then all converge; a wave that rejects the revision stops the rollout and the run
 * rolls back, and the instances of later waves never run the bad revision.
 */
describe("promote with strategy waves", () => {
  let world: World;
  const instances: {
    id: string;
    zone: string | undefined;
    cfg: NexusConfig<Shop>;
    seen: Shop[];
    /** When each revision was offered to the application (ms). */
    offered: Map<number, number>;
  }[] = [];
  const rolloutEvents: CloudEvent<JsonBody>[] = [];
  let stopWatch: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    // The sweep of gates left open looks often here (60 s by default).
    await world.startOrchestrator({ gateSweepMs: 200 });
    const watch = await world.registry.nats.bus.consume(
      ["nexus.rollout.progressed"],
      { durable: `rollouts-${Math.random().toString(36).slice(2, 8)}`, concurrency: 1 },
      async (event) => {
        rolloutEvents.push(event as CloudEvent<JsonBody>);
      },
    );
    stopWatch = () => watch.stop();
    const zones = [
      ["a-1", "a"],
      ["a-2", "a"],
      ["b-1", "b"],
      ["b-2", "b"],
      ["none-1", undefined],
    ] as const;
    for (const [id, zone] of zones) {
      const seen: Shop[] = [];
      const offered = new Map<number, number>();
      const cfg = await connectConfig<Shop>({
        namespace: "shop",
        environment: "production",
        service: "shop-api",
        nats: world.registry.nats.nc,
        subjectPrefix: world.registry.nats.prefix,
        heartbeatSeconds: 1,
        instanceId: `shop-${id}`,
        // No `rollouts` option: the SDK honours wave rollouts by default.
        ...(zone ? { labels: { zone } } : {}),
        ...(process.env.WAVES_DEBUG
          ? {
              logger: {
                debug() {},
                info: (f: unknown, m: string) => console.log(id, m, JSON.stringify(f)),
                warn: (f: unknown, m: string) => console.log(id, m, JSON.stringify(f)),
                error: (f: unknown, m: string) => console.log(id, m, JSON.stringify(f)),
              },
            }
          : {}),
        onChange: (next) => {
          seen.push(next);
          offered.set(seen.length, Date.now());
          if (id === "a-2" && next.checkout?.mode === "broken")
            throw new Error("mode broken is not supported");
        },
      });
      instances.push({ id, zone, cfg, seen, offered });
    }
  });
  afterAll(async () => {
    for (const i of instances) await i.cfg.close().catch(() => undefined);
    await stopWatch?.().catch(() => undefined);
    await world?.close();
  });

  const pipeline = (name: string) => ({
    name,
    namespace: "shop",
    source: "staging",
    target: "production",
    pinnedPaths: ["/db/host", "/replicas"],
    steps: [
      {
        type: "promote",
        strategy: "waves",
        waves: [{ labels: { zone: "a" } }, { labels: { zone: "b" } }],
        pauseSeconds: 2,
        waveTimeoutSeconds: 30,
      },
      { type: "wait-applied", percent: 100, timeoutSeconds: 20 },
    ],
  });
  const run = (id: string) => world.call("GET", `/v1/runs/${id}`).then((r) => r.body);
  const byZone = (zone: string | undefined) => instances.filter((i) => i.zone === zone);
  /** The rollout gates open on the namespace at the registry (run id → environment). */
  const gates = async () =>
    (
      await world.registry.db.pool.query<{ g: Record<string, string> }>(
        "SELECT rollout_gates AS g FROM namespaces WHERE name = 'shop'",
      )
    ).rows[0]!.g;

  it("refuses waves without strategy waves and percentages that do not grow, naming the field", async () => {
    const p = pipeline("bad-waves");
    const bad = await world.call("POST", "/v1/pipelines", {
      ...p,
      steps: [{ type: "promote", waves: [{ percent: 10 }] }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("steps[0].strategy");
    const shrinking = await world.call("POST", "/v1/pipelines", {
      ...p,
      steps: [{ type: "promote", strategy: "waves", waves: [{ percent: 50 }, { percent: 20 }] }],
    });
    expect(shrinking.status).toBe(400);
    expect(shrinking.body.error.field).toBe("steps[0].waves[1].percent");
  });

  it("holds instances outside the released waves on the previous revision, then all converge", async () => {
    const before = await world.resolved("shop", "production");
    for (const i of instances) expect(i.cfg.revision).toBe(before.revision);
    expect((await world.call("POST", "/v1/pipelines", pipeline("shop-waves"))).status).toBe(201);
    // No pipeline is triggered by changes and no rollout is active: no trigger consumer yet.
    expect(await triggerDurable(world)).toBeNull();
    const started = await world.call("POST", "/v1/pipelines/shop-waves/runs", {});
    expect(started.status).toBe(201);
    const runId = started.body.id as string;
    // The plan's answers need config.changed: the consumer starts with the plan, not at the next
    // check (every 5 s).
    await eventually(
      () => world.db.pool.query("SELECT 1 FROM rollouts WHERE run_id = $1", [runId]),
      (r) => r.rowCount === 1,
      10_000,
    );
    await eventually(
      () => triggerDurable(world),
      (d) => d !== null,
      1_500,
    );

    // Everyone heard of the new revision and asked; zone b and the unlabelled instance are held.
    await eventually(
      async () =>
        [...byZone("b"), ...byZone(undefined)].map(
          (i) => (i.cfg as unknown as { heldRevision?: number }).heldRevision ?? i.cfg.revision,
        ),
      (revs) => revs.every((r) => r > before.revision),
    );
    // The run's gate is open while its plan holds: the registry marks the place's changes.
    expect(await gates()).toEqual({ [runId]: "production" });
    const done = await eventually(
      () => run(runId),
      (r) => r.status === "succeeded" || r.status === "failed" || r.status === "rolled-back",
      30_000,
    );
    expect(done.status, String(done.failure)).toBe("succeeded");
    const promoted = byZone("a")[0]!.cfg.revision;
    expect(promoted).toBeGreaterThan(before.revision);
    for (const i of instances) {
      expect(i.cfg.revision).toBe(promoted);
      expect(i.cfg.get().checkout?.enabled).toBe(true);
      expect(i.seen).toHaveLength(1);
    }
    // Order, from when each instance was offered the revision: zone a first, zone b only after
    // all of zone a and the pause, the unlabelled instance last (the end of the rollout).
    const at = (zone: string | undefined) => byZone(zone).map((i) => i.offered.get(1)!);
    expect(Math.min(...at("b"))).toBeGreaterThanOrEqual(Math.max(...at("a")) + 1_500);
    expect(Math.min(...at(undefined))).toBeGreaterThanOrEqual(Math.max(...at("b")) + 1_500);
    expect(done.steps[0].summary).toMatch(/rolled out in 2 wave/);
    // Closed once the plan completed: the next changes are applied without asking.
    expect(await gates()).toEqual({});

    const statuses = await eventually(
      async () =>
        rolloutEvents
          .filter((e) => e.data.rolloutId === runId)
          .map((e) => [e.data.status, e.data.releasedWaves]),
      (s) => s.some(([status]) => status === "completed"),
    );
    expect(statuses).toEqual([
      ["started", 0],
      ["wave-released", 1],
      ["wave-released", 2],
      ["completed", 2],
    ]);
  });

  it("a wave that rejects the revision aborts the rollout and rolls back; later waves never run it", async () => {
    const staging = await world.registryCall("GET", "/v1/namespaces/shop/layers/staging");
    const put = await world.registryCall("PUT", "/v1/namespaces/shop/layers/staging", {
      ...staging.body.content,
      checkout: { enabled: true, mode: "broken" },
    });
    expect(put.status).toBe(200);
    const before = await world.resolved("shop", "production");
    expect((await world.call("PUT", "/v1/pipelines/shop-waves", pipeline("shop-waves"))).status).toBe(200);
    const started = await world.call("POST", "/v1/pipelines/shop-waves/runs", {});
    expect(started.status).toBe(201);
    const runId = started.body.id as string;
    const done = await eventually(
      () => run(runId),
      (r) => r.status === "succeeded" || r.status === "failed" || r.status === "rolled-back",
      30_000,
    );
    expect(done.status).toBe("rolled-back");
    expect(done.failure).toMatch(/rejected it: shop-a-2: mode broken is not supported/);
    // Everyone converges on the rolled-back content (a revision newer than the bad one).
    const after = await world.resolved("shop", "production");
    expect(after.revision).toBeGreaterThan(before.revision);
    await eventually(
      async () => instances.map((i) => i.cfg.hash),
      (hashes) => hashes.every((h) => h === before.hash),
    );
    // Zone b and the unlabelled instance never ran the bad revision.
    for (const i of [...byZone("b"), ...byZone(undefined)])
      expect(i.seen.some((s) => s.checkout?.mode === "broken")).toBe(false);
    expect(byZone("a")[0]!.seen.some((s) => s.checkout?.mode === "broken")).toBe(true);
    const statuses = await eventually(
      async () => rolloutEvents.filter((e) => e.data.rolloutId === runId).map((e) => e.data.status),
      (s) => s.includes("aborted"),
    );
    expect(statuses).toEqual(["started", "wave-released", "aborted"]);
    // The aborted run's gate closed after its abort committed.
    await eventually(gates, (g) => Object.keys(g).length === 0);
  });

  /** Open `runId`'s gate at the registry, as the orchestrator's `gates.open` does. */
  const openGate = async (runId: string) =>
    world.registry.nats.bus.requestCommand(
      rolloutGateSubject({ namespace: "shop", environment: "production" }),
      { schemaVersion: 1, namespace: "shop", environment: "production", runId, open: true },
      RolloutGateReply,
    );
  const gateClosedAt = async (runId: string) =>
    (
      await world.db.pool.query<{ closed_at: Date | null }>(
        "SELECT closed_at FROM rollout_gates WHERE run_id = $1",
        [runId],
      )
    ).rows[0]?.closed_at;

  it("a gate left open after its plan ended (a close that failed) is closed by the sweep", async () => {
    const ended = (
      await world.db.pool.query<{ run_id: string; closed_at: Date | null }>(
        `SELECT r.run_id, g.closed_at FROM rollouts r JOIN rollout_gates g USING (run_id)
         WHERE r.status <> 'active' ORDER BY r.created_at`,
      )
    ).rows;
    expect(ended.length).toBeGreaterThanOrEqual(2);
    // Both ended plans' closes were recorded (the completed one by its step, the aborted one after its abort).
    expect(ended.every((r) => r.closed_at !== null)).toBe(true);
    const runId = ended[0]!.run_id;
    expect(await openGate(runId)).toMatchObject({ ok: true, runIds: [runId] });
    await world.db.pool.query("UPDATE rollout_gates SET closed_at = NULL WHERE run_id = $1", [runId]);
    await eventually(gates, (g) => Object.keys(g).length === 0, 10_000);
    // Recorded just after the registry closed it.
    await eventually(
      () => gateClosedAt(runId),
      (at) => at != null,
    );
  });

  it("a gate whose plan never committed is closed once its run ended and nothing holds the run", async () => {
    // A run that ends without a plan: it waits for an approval, then is cancelled.
    const holding = {
      name: "shop-no-plan",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [{ type: "approve", name: "hold" }],
    };
    expect((await world.call("POST", "/v1/pipelines", holding)).status).toBe(201);
    const started = await world.call("POST", "/v1/pipelines/shop-no-plan/runs", {});
    expect(started.status).toBe(201);
    const runId = started.body.id as string;
    await eventually(
      () => run(runId),
      (r) => r.status === "awaiting-approval",
    );
    // What an instance that stopped between opening the gate and committing the plan leaves: the
    // gate recorded (before opening) and open at the registry, no plan.
    await world.db.pool.query(
      "INSERT INTO rollout_gates (run_id, namespace, environment) VALUES ($1, 'shop', 'production')",
      [runId],
    );
    expect(await openGate(runId)).toMatchObject({ ok: true, runIds: [runId] });
    // The run has not ended: its step could still commit the plan, so the gate stays.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(Object.keys(await gates())).toEqual([runId]);
    expect((await world.call("POST", `/v1/runs/${runId}/cancel`)).status).toBe(200);
    await eventually(
      () => run(runId),
      (r) => r.status === "failed" || r.status === "rolled-back",
    );
    // Ended, claimed by no instance: nothing can commit its plan any more, so the sweep closes it.
    await eventually(gates, (g) => Object.keys(g).length === 0, 10_000);
    // Recorded just after the registry closed it.
    await eventually(
      () => gateClosedAt(runId),
      (at) => at != null,
    );

    // Ended, but an instance still claims it (its step may be mid-commit): the gate stays.
    await world.db.pool.query(
      "UPDATE runs SET claimed_by = 'elsewhere', claim_expires_at = now() + interval '1 hour' WHERE id = $1",
      [runId],
    );
    await world.db.pool.query("UPDATE rollout_gates SET closed_at = NULL WHERE run_id = $1", [runId]);
    expect(await openGate(runId)).toMatchObject({ ok: true, runIds: [runId] });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(Object.keys(await gates())).toEqual([runId]);
    expect(await gateClosedAt(runId)).toBeNull();
    await world.db.pool.query("UPDATE runs SET claimed_by = NULL, claim_expires_at = NULL WHERE id = $1", [
      runId,
    ]);
    await eventually(gates, (g) => Object.keys(g).length === 0, 10_000);
    // Recorded just after the registry closed it.
    await eventually(
      () => gateClosedAt(runId),
      (at) => at != null,
    );
  });

  it("an instance starting while its wave is held starts on the revision its wave runs", async () => {
    const before = await world.resolved("shop", "production");
    const layer = (await world.registryCall("GET", "/v1/namespaces/shop/layers/staging")).body;
    expect(
      (
        await world.registryCall("PUT", "/v1/namespaces/shop/layers/staging", {
          ...layer.content,
          checkout: { enabled: true, mode: "late-start" },
        })
      ).status,
    ).toBe(200);
    const held = {
      ...pipeline("shop-held"),
      steps: [
        {
          type: "promote",
          strategy: "waves",
          waves: [{ labels: { zone: "a" } }, { labels: { zone: "c" } }],
          pauseSeconds: 600,
          waveTimeoutSeconds: 30,
        },
      ],
    };
    expect((await world.call("POST", "/v1/pipelines", held)).status).toBe(201);
    const runId = (await world.call("POST", "/v1/pipelines/shop-held/runs", {})).body.id as string;
    // Wave 1 (zone a) runs the new revision; wave 2 waits out a long pause.
    await eventually(
      async () => byZone("a").map((i) => i.cfg.get().checkout?.mode),
      (modes) => modes.every((m) => m === "late-start"),
      30_000,
    );
    const token = await world.registry.tokenFor(["viewer:shop:*"], { name: "late", owner: "late" });
    const late = await connectConfig<Shop>({
      namespace: "shop",
      environment: "production",
      service: "shop-api",
      url: world.registryUrl,
      token,
      nats: world.registry.nats.nc,
      subjectPrefix: world.registry.nats.prefix,
      instanceId: "shop-c-late",
      labels: { zone: "c" },
      rollouts: true,
    });
    // The same over NATS alone (no registry URL): the read command's `revision`.
    const lateNats = await connectConfig<Shop>({
      namespace: "shop",
      environment: "production",
      service: "shop-api",
      nats: world.registry.nats.nc,
      subjectPrefix: world.registry.nats.prefix,
      instanceId: "shop-c-late-nats",
      labels: { zone: "c" },
      rollouts: true,
    });
    try {
      expect(late.revision).toBeLessThanOrEqual(before.revision);
      expect(late.hash).toBe(before.hash);
      expect(late.get().checkout?.mode).not.toBe("late-start");
      expect(lateNats.revision).toBe(late.revision);
      expect(lateNats.hash).toBe(before.hash);
      expect(lateNats.get().checkout?.mode).not.toBe("late-start");
    } finally {
      await lateNats.close();
      await late.close();
      await world.call("POST", `/v1/runs/${runId}/cancel`, {});
      await eventually(
        () => run(runId),
        (r) => r.status !== "running" && r.status !== "rolling-back",
        30_000,
      );
    }
  });
});
