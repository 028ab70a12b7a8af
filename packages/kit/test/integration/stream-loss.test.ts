import { jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import { createTestBus, createTestDatabase, type TestBus, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Consumption } from "../../src/bus/index.js";
import { withTransaction } from "../../src/db/pool.js";
import { createLogger } from "../../src/logger.js";
import { createOutboxRelay, enqueueEvent, type OutboxRelay } from "../../src/outbox/index.js";

const changed = (revision: number): ConfigChanged => ({
  schemaVersion: 1,
  namespace: "lost-store",
  environment: "production",
  revision,
  previousRevision: revision - 1,
  hash: "b".repeat(64),
  previousHash: null,
  layer: "base",
  changedPaths: [],
  trigger: "write",
  actor: "alice",
  source: "api",
});

/**
 * What a wiped JetStream store looks like to a service: the events stream and every durable on it
 * are gone while the service runs. Without a restart, the relay must make the stream again and
 * re-publish what the outbox keeps, and the consumer must make its durable again and end up with
 * every event.
 */
describe("a lost JetStream store", () => {
  let db: TestDatabase;
  let t: TestBus;
  let relay: OutboxRelay;
  let consumption: Consumption | undefined;
  const logger = createLogger({ service: "stream-loss-test", level: "silent" });

  beforeAll(async () => {
    [db, t] = await Promise.all([createTestDatabase({ schema: "kit_stream_loss" }), createTestBus()]);
  });
  afterAll(async () => {
    await consumption?.stop();
    await relay?.stop();
    await t?.cleanup();
    await db?.drop();
  });

  it("recreates the stream and the durable and makes the consumer whole from the outbox", async () => {
    relay = createOutboxRelay({
      pool: db.pool,
      bus: t.bus,
      logger,
      databaseUrl: db.url,
      pollIntervalMs: 200,
      streamCheckMs: 300,
    });
    await relay.start();
    const seen = new Map<string, number>();
    consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "lost-store-reader", ackWaitMs: 2_000 },
      (e) => {
        seen.set(e.id, e.data.revision);
      },
    );
    const enqueue = (revision: number) =>
      withTransaction(db.pool, (c) => enqueueEvent(c, t.bus, CONFIG_CHANGED, changed(revision)));

    const before = [await enqueue(1), await enqueue(2), await enqueue(3)];
    await expect.poll(() => seen.size, { timeout: 5_000 }).toBe(3);

    // The store is wiped: stream and durables gone.
    const jsm = await jetstreamManager(t.nc);
    await jsm.streams.delete(t.streams.events);
    const after = [await enqueue(4), await enqueue(5)];

    // The relay notices, makes the stream again and re-publishes all five retained events; the
    // consumer makes its durable again and reads them.
    await expect
      .poll(async () => (await jsm.streams.info(t.streams.events).catch(() => null))?.state.messages ?? 0, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(5);
    await expect.poll(() => seen.size, { timeout: 15_000 }).toBe(5);
    for (const e of [...before, ...after]) expect(seen.has(e.id)).toBe(true);
    const unpublished = await db.pool.query(
      "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL",
    );
    expect(unpublished.rows[0].n).toBe(0);
    const consumers = await jsm.consumers.list(t.streams.events).next();
    expect(consumers.map((c) => c.name)).toContain("lost-store-reader-config-changed");
  }, 60_000);
});
