import { randomUUID } from "node:crypto";
import type { CONFIG_CHANGED, ConfigChanged } from "@nexus/contracts";
import { type BatchHandler, type Bus, createLogger, type Pool } from "@nexus/kit";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineService } from "../../src/pipelines/pipeline-service.js";
import { createPipelineStore } from "../../src/pipelines/pipeline-store.js";
import { consumeTriggers } from "../../src/triggers/trigger-consumer.js";
import { createTriggerIndex } from "../../src/triggers/trigger-index.js";
import { countingPool } from "./counting-pool.js";
import { ORCHESTRATOR_MIGRATIONS, ORCHESTRATOR_SCHEMA } from "./harness.js";

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
async function instance(db: TestDatabase) {
  const { pool, sent: seen } = countingPool(db.pool as unknown as Pool);
  const index = createTriggerIndex({ pipelines: store });
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
  const service = createPipelineService({ pool, pipelines: store, allowedCommands: [], allowedHookUrls: [] });
  return {
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

describe("the pipeline trigger index in memory", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ schema: ORCHESTRATOR_SCHEMA, migrationsDir: ORCHESTRATOR_MIGRATIONS });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("a batch no pipeline wants costs one one-row read, and the pipelines are read only when they changed", async () => {
    const a = await instance(db);
    await a.batch(change("warm", "staging", 2)); // the first batch reads the index
    const sent = await a.batch(change("nobody", "staging", 3), change("other", "staging", 4));
    expect(sent).toEqual(["SELECT version FROM pipeline_index"]);
    expect(a.started).toEqual([]);
  });

  it("a pipeline created, changed or deleted through one instance is honoured by another at its next batch", async () => {
    const a = await instance(db);
    const b = await instance(db);
    await b.batch(change("warm", "staging", 1));
    await a.service.create(pipeline("shop-up", "shop"), "alice", anyone);
    // No waiting: the version b reads with the batch already moved.
    await b.batch(change("shop", "staging", 7));
    expect(b.started).toEqual([{ pipeline: "shop-up", revision: 7 }]);
    await a.batch(change("shop", "staging", 8));
    expect(a.started).toEqual([{ pipeline: "shop-up", revision: 8 }]);
    expect(await b.batch(change("shop", "production", 9))).toEqual(["SELECT version FROM pipeline_index"]);

    await a.service.delete("shop-up", anyone);
    await b.batch(change("shop", "staging", 10));
    expect(b.started).toHaveLength(1);
    await a.service.create({ ...pipeline("shop-up", "shop"), triggers: [] }, "alice", anyone);
    await b.batch(change("shop", "staging", 11));
    expect(b.started).toHaveLength(1);
    await a.service.update("shop-up", pipeline("shop-up", "shop"), "alice", anyone);
    await b.batch(change("shop", "staging", 12));
    expect(b.started).toEqual([
      { pipeline: "shop-up", revision: 7 },
      { pipeline: "shop-up", revision: 12 },
    ]);
  });

  it("a pipeline written by hand in Postgres is honoured at the next batch (the version moves with any statement)", async () => {
    const b = await instance(db);
    await b.batch(change("warm", "staging", 1));
    await db.pool.query(
      `WITH p AS (INSERT INTO pipelines (name, namespace, source_env, target_env, current_version, created_by, updated_by)
         VALUES ('hand-made', 'hand', 'staging', 'production', 1, 'x', 'x') RETURNING name)
       INSERT INTO pipeline_versions (pipeline, version, definition, created_by) SELECT name, 1, $1, 'x' FROM p`,
      [JSON.stringify(pipeline("hand-made", "hand"))],
    );
    await b.batch(change("hand", "staging", 2));
    expect(b.started).toEqual([{ pipeline: "hand-made", revision: 2 }]);
  });
});
