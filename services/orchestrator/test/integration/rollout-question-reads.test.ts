import { randomUUID } from "node:crypto";
import { RolloutTargetReply, rolloutTargetSubject } from "@nexus/contracts";
import type { Pool } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countingPool } from "./counting-pool.js";
import { eventually, seedShop, startWorld, type World } from "./harness.js";

/**
 * The SDK's rollout question against two orchestrator processes' worth of apps on one database
 * (the question goes to either, as NATS's queue group picks): asking again for a revision already
 * answered reads nothing, and a plan one instance commits holds the revision written after it
 * whichever instance answers.
 */
describe("the rollout question's reads", () => {
  let world: World;
  type Counting = ReturnType<typeof countingPool>;
  let first: Counting;
  let second: Counting;

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    first = countingPool(world.db.pool as unknown as Pool);
    await world.startOrchestrator({}, first.pool);
    // The answers remember only revisions the orchestrator saw in `config.changed`, which it
    // consumes only while something needs it: here a pipeline triggered by changes (of staging;
    // the writes below are to production, so it never runs).
    const pipeline = await world.call("POST", "/v1/pipelines", {
      name: "shop-follows-staging",
      namespace: "shop",
      source: "staging",
      target: "production",
      triggers: [{ type: "config.changed" }],
      steps: [{ type: "promote" }],
    });
    expect(pipeline.status).toBe(201);
  });
  afterAll(async () => {
    await world?.close();
  });

  /** The SDK's question; the decision, or the error reply's code. */
  const ask = async (revision: number, instanceId: string) => {
    const reply = await world.registry.nats.bus.requestCommand(
      rolloutTargetSubject({ namespace: "shop", environment: "production" }),
      {
        schemaVersion: 1,
        namespace: "shop",
        environment: "production",
        service: "shop-api",
        instanceId,
        labels: {},
        revision,
      },
      RolloutTargetReply,
    );
    return reply.ok ? reply : { decision: `error ${reply.error.code}` };
  };
  const reads = (p: Counting) => p.count(/FROM rollouts/);
  const write = async (content: unknown) => {
    const res = await world.registryCall("PUT", "/v1/namespaces/shop/layers/production", content);
    expect(res.status).toBe(200);
    return (await world.resolved("shop", "production")).revision;
  };

  it("a revision asked about again costs no read", async () => {
    const revision = await write({ db: { host: "prod-db" }, replicas: 9 });
    // Once the orchestrator consumed that change (it is then known committed), asking again reads nothing.
    await eventually(
      async () => {
        await ask(revision, `probe-${randomUUID()}`);
        const before = reads(first);
        const reply = await ask(revision, `probe-${randomUUID()}`);
        return { reply, cost: reads(first) - before };
      },
      (r) => r.cost === 0,
    );
    const before = reads(first);
    for (let i = 0; i < 20; i++) expect((await ask(revision, `shop-${i}`)).decision).toBe("apply");
    expect(reads(first) - before).toBe(0);
  });

  it("a plan committed after remembered answers holds the promoted revision, whichever instance answers", async () => {
    second = countingPool(world.db.pool as unknown as Pool);
    await world.startOrchestrator({}, second.pool);
    const hold = (await world.resolved("shop", "production")).revision;
    for (let i = 0; i < 20; i++) expect((await ask(hold, `shop-${i}`)).decision).toBe("apply");
    // What a wave promote step commits before it writes (here by hand: the run row it belongs to).
    const runId = randomUUID();
    await world.db.pool.query(
      `INSERT INTO runs (id, pipeline, pipeline_version, definition, namespace, source_env, target_env,
         source_revision, trigger, started_by, status)
       VALUES ($1, 'p', 1, '{}', 'shop', 'staging', 'production', 1, 'manual', 'alice', 'running')`,
      [runId],
    );
    await world.db.pool.query(
      `INSERT INTO rollouts (run_id, pipeline, namespace, environment, hold_revision, waves)
       VALUES ($1, 'p', 'shop', 'production', $2, '[{"percent": 100}]')`,
      [runId, hold],
    );
    const promoted = await write({ db: { host: "prod-db" }, replicas: 10 });
    for (let i = 0; i < 20; i++) {
      const reply = await ask(promoted, `shop-${i}`);
      expect(reply).toMatchObject({ ok: true, decision: "hold", rolloutId: runId, holdRevision: hold });
      expect((await ask(hold, `shop-${i}`)).decision).toBe("apply");
    }
    // Both instances answered some of them.
    expect(reads(first)).toBeGreaterThan(0);
    expect(reads(second)).toBeGreaterThan(0);
  });
});
