import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import { createTestBus, createTestDatabase, type TestBus, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, afterEach, beforeAll } from "vitest";
import { withTransaction } from "../../src/db/pool.js";
import { createLogger } from "../../src/logger.js";
import {
  createOutboxRelay,
  enqueueEvent,
  type OutboxRelay,
  type OutboxRelayConfig,
} from "../../src/outbox/index.js";
import { changedEvent } from "./changed-event.js";

/** What the outbox tests share: a database with the kit's tables, a bus, and relays stopped after each test. */

/** A `config.changed` of `namespace` at `revision` (the bus tests' `changedEvent`). */
export const changed = (revision: number, namespace = "payments-api"): ConfigChanged =>
  changedEvent({ namespace, revision, previousRevision: revision - 1 });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const logger = createLogger({ service: "outbox-test", level: "silent" });

export interface OutboxWorld {
  db: TestDatabase;
  t: TestBus;
  jsm: JetStreamManager;
  /** A relay on the world's database and bus (stopped after the test). */
  relay(over?: Partial<OutboxRelayConfig>): OutboxRelay;
  /** One event in its own transaction (woken by NOTIFY at commit). */
  enqueue(revision: number, namespace?: string): ReturnType<typeof enqueueEvent<typeof CONFIG_CHANGED>>;
  unpublished(): Promise<number>;
  /**
   * A pool for a relay that records the statements it sends matching each pattern, by name (the
   * order check, reads of the outbox, stamps), and sends them on to the world's database.
   */
  recordingPool<K extends string>(
    patterns: Record<K, RegExp>,
  ): { pool: TestDatabase["pool"]; seen: Record<K, string[]> };
}

/** Registers the suite's hooks; the fields are set once `beforeAll` ran. */
export function useOutboxWorld(): OutboxWorld {
  const relays: OutboxRelay[] = [];
  const w = {
    relay: (over: Partial<OutboxRelayConfig> = {}) => {
      const r = createOutboxRelay({
        pool: w.db.pool,
        bus: w.t.bus,
        logger,
        databaseUrl: w.db.url,
        lockRetryMs: 100,
        pollIntervalMs: 200,
        ...over,
      });
      relays.push(r);
      return r;
    },
    enqueue: (revision: number, namespace?: string) =>
      withTransaction(w.db.pool, (c) =>
        enqueueEvent(c, w.t.bus, CONFIG_CHANGED, changed(revision, namespace)),
      ),
    recordingPool: <K extends string>(patterns: Record<K, RegExp>) => {
      const seen = Object.fromEntries(Object.keys(patterns).map((k) => [k, []])) as unknown as Record<
        K,
        string[]
      >;
      const pool = {
        query: ((...args: unknown[]) => {
          const text = typeof args[0] === "string" ? args[0] : (args[0] as { text: string }).text;
          for (const [name, pattern] of Object.entries(patterns) as [K, RegExp][])
            if (pattern.test(text)) seen[name].push(text);
          return (w.db.pool.query as (...a: unknown[]) => unknown)(...args);
        }) as TestDatabase["pool"]["query"],
      } as TestDatabase["pool"];
      return { pool, seen };
    },
    unpublished: async () =>
      (await w.db.pool.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL")).rows[0]
        .n as number,
  } as OutboxWorld;
  beforeAll(async () => {
    [w.db, w.t] = await Promise.all([createTestDatabase({ schema: "kit_outbox" }), createTestBus()]);
    w.jsm = await jetstreamManager(w.t.nc);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await w.db.pool.query("TRUNCATE outbox");
  });
  afterAll(async () => {
    await w.t?.cleanup();
    await w.db?.drop();
  });
  return w;
}
