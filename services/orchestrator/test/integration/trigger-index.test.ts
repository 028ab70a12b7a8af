import { randomUUID } from "node:crypto";
import type { CONFIG_CHANGED, ConfigChanged } from "@nexus/contracts";
import { type BatchHandler, type Bus, createLogger, type Pool } from "@nexus/kit";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineService } from "../../src/pipelines/pipeline-service.js";
import { createPipelineStore } from "../../src/pipelines/pipeline-store.js";
import { consumeTriggers } from "../../src/triggers/trigger-consumer.js";
import { createTriggerIndex, type TriggerIndex } from "../../src/triggers/trigger-index.js";
import { countingPool } from "./counting-pool.js";
import { eventually, ORCHESTRATOR_MIGRATIONS, ORCHESTRATOR_SCHEMA } from "./harness.js";

const logger = createLogger({ service: "trigger-index-test", level: "silent" });
const store = createPipelineStore();

const change = (namespace: string, environment: string, revision: number): ConfigChanged => ({
  schemaVersion: 1,
  namespace,
  environment,
  revision,
  previousRevision: revision - 1,
  hash: `sha256:${"a".repeat(64)}`,
  previousHash: null,
  layer: environment,
  changedPaths: ["/x"],
  trigger: "write",
  actor: "alice",
  source: "api",
});
const items = (...changes: ConfigChanged[]) =>
  changes.map((data) => ({
    event: { id: randomUUID(), data, time: new Date().toISOString() },
  })) as unknown as Parameters<BatchHandler<typeof CONFIG_CHANGED>>[0];

/** One orchestrator instance's trigger path: its index, its pipeline service, its consumer's handler. */
async function instance(db: TestDatabase, opts: { checkMs?: number; retryMs?: number } = {}) {
  const { pool, sent: seen } = countingPool(db.pool as unknown as Pool);
  const index = createTriggerIndex({
    pool,
    databaseUrl: db.url,
    schema: ORCHESTRATOR_SCHEMA,
    pipelines: store,
    logger,
    retryMs: 100,
    ...opts,
  });
  await index.start();
  const started: { pipeline: string; revision: number }[] = [];
  let handler: BatchHandler<typeof CONFIG_CHANGED> | undefined;
  const bus = {
    consumeBatches: async (_t: unknown, _o: unknown, h: BatchHandler<typeof CONFIG_CHANGED>) => {
      handler = h;
      return { stop: async () => {} };
    },
  } as unknown as Pick<Bus, "consumeBatches">;
  await consumeTriggers({
    bus,
    pool,
    pipelines: store,
    runs: {
      startFromEvent: async (_tx, p, revision) => {
        started.push({ pipeline: p.name, revision });
        return randomUUID();
      },
    },
    logger,
    wake: () => {},
    index,
  });
  const service = createPipelineService({
    pool,
    pipelines: store,
    allowedCommands: [],
    allowedHookUrls: [],
    changed: () => index.changed(),
  });
  return {
    index,
    service,
    started,
    seen,
    /** Hand a batch to the consumer; the statements it sent. */
    async batch(...changes: ConfigChanged[]): Promise<string[]> {
      const from = seen.length;
      await handler?.(items(...changes));
      return seen.slice(from);
    },
  };
}

const pipeline = (name: string, namespace: string) => ({
  name,
  namespace,
  source: "staging",
  target: "production",
  triggers: [{ type: "config.changed" }],
  steps: [{ type: "promote" }],
});
const anyone = () => {};
const SHOP = "shop\u0000staging";

describe("the pipeline trigger index in memory", () => {
  let db: TestDatabase;
  const stops: TriggerIndex[] = [];
  beforeAll(async () => {
    db = await createTestDatabase({ schema: ORCHESTRATOR_SCHEMA, migrationsDir: ORCHESTRATOR_MIGRATIONS });
  });
  afterAll(async () => {
    for (const s of stops) await s.stop();
    await db?.drop();
  });

  it("a batch no pipeline wants costs no statement", async () => {
    const a = await instance(db);
    stops.push(a.index);
    await eventually(
      async () => a.index.sources(),
      (s) => s !== null,
    );
    const sent = await a.batch(change("nobody", "staging", 3), change("other", "staging", 4));
    expect(sent).toEqual([]);
    expect(a.started).toEqual([]);
  });

  it("a pipeline created or deleted through one instance is honoured at once by another on the same database", async () => {
    const a = await instance(db);
    const b = await instance(db);
    stops.push(a.index, b.index);
    await eventually(
      async () => [a.index.sources(), b.index.sources()],
      (s) => s.every((x) => x !== null),
    );
    await a.service.create(pipeline("shop-up", "shop"), "alice", anyone);
    // b hears of it by the notification Postgres sends at commit: until it holds a fresh copy it
    // asks Postgres per batch.
    await eventually(
      async () => b.index.sources()?.has(SHOP) ?? "asks",
      (v) => v !== false,
      5_000,
    );
    await b.batch(change("shop", "staging", 7));
    expect(b.started).toEqual([{ pipeline: "shop-up", revision: 7 }]);
    // The creating instance is exact without any notification.
    await a.batch(change("shop", "staging", 8));
    expect(a.started).toEqual([{ pipeline: "shop-up", revision: 8 }]);
    // Once b holds the new index again, a batch it does not want costs nothing.
    await eventually(
      async () => b.index.sources()?.size ?? -1,
      (n) => n === 1,
    );
    expect(await b.batch(change("shop", "production", 9))).toEqual([]);

    await a.service.delete("shop-up", anyone);
    await eventually(
      async () => b.index.sources()?.has(SHOP) ?? "asks",
      (v) => v !== true,
      5_000,
    );
    await b.batch(change("shop", "staging", 10));
    expect(b.started).toHaveLength(1);
    await a.service.create({ ...pipeline("shop-up", "shop"), triggers: [] }, "alice", anyone);
    await eventually(
      async () => b.index.sources(),
      (s) => s !== null,
      5_000,
    );
    await b.batch(change("shop", "staging", 11));
    expect(b.started).toHaveLength(1);
  });

  it("stops trusting memory while its listening connection is gone, and reads what changed meanwhile", async () => {
    // Slow to come back, so the write below lands while nobody listens.
    const b = await instance(db, { retryMs: 1_500 });
    stops.push(b.index);
    await eventually(
      async () => b.index.sources(),
      (s) => s !== null,
    );
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name LIKE 'nexus-orchestrator:%'`,
    );
    await eventually(
      async () => b.index.sources(),
      (s) => s === null,
      5_000,
    );
    // Written by hand while nobody listens.
    await db.pool.query(
      `WITH p AS (INSERT INTO pipelines (name, namespace, source_env, target_env, current_version, created_by, updated_by)
         VALUES ('hand-made', 'hand', 'staging', 'production', 1, 'x', 'x') RETURNING name)
       INSERT INTO pipeline_versions (pipeline, version, definition, created_by) SELECT name, 1, $1, 'x' FROM p`,
      [JSON.stringify(pipeline("hand-made", "hand"))],
    );
    await b.batch(change("hand", "staging", 2));
    expect(b.started).toEqual([{ pipeline: "hand-made", revision: 2 }]);
    await eventually(
      async () => b.index.sources(),
      (s) => s?.has("hand\u0000staging") === true,
      5_000,
    );
  });

  it("the slow check finds a change that no notification announced", async () => {
    const b = await instance(db, { checkMs: 100 });
    stops.push(b.index);
    await eventually(
      async () => b.index.sources(),
      (s) => s !== null,
    );
    const c = await db.pool.connect();
    try {
      // Triggers off for this session (as a restore might run): no notification, no bump.
      await c.query("SET session_replication_role = replica");
      await c.query(
        `WITH p AS (INSERT INTO pipelines (name, namespace, source_env, target_env, current_version, created_by, updated_by)
           VALUES ('quiet', 'quiet', 'staging', 'production', 1, 'x', 'x') RETURNING name)
         INSERT INTO pipeline_versions (pipeline, version, definition, created_by) SELECT name, 1, $1, 'x' FROM p`,
        [JSON.stringify(pipeline("quiet", "quiet"))],
      );
      await c.query("UPDATE pipeline_index SET version = version + 1");
      await c.query("SET session_replication_role = DEFAULT");
    } finally {
      c.release();
    }
    await eventually(
      async () => b.index.sources(),
      (s) => s?.has("quiet\u0000staging") === true,
      5_000,
    );
    await b.batch(change("quiet", "staging", 5));
    expect(b.started).toEqual([{ pipeline: "quiet", revision: 5 }]);
  });
});
