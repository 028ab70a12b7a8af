import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import {
  collectEvents,
  createTestBus,
  createTestDatabase,
  type TestBus,
  type TestDatabase,
} from "@nexus/test-fixtures";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Bus } from "../../src/bus/index.js";
import { withTransaction } from "../../src/db/pool.js";
import { createLogger } from "../../src/logger.js";
import {
  createOutboxRelay,
  deletePublishedOutbox,
  enqueueEvent,
  enqueueEvents,
  enqueuePlacedEvents,
  type OutboxRelay,
  type OutboxRelayConfig,
  prepareOutboxRows,
} from "../../src/outbox/index.js";

const changed = (revision: number, namespace = "payments-api"): ConfigChanged => ({
  schemaVersion: 1,
  namespace,
  environment: "production",
  revision,
  previousRevision: revision - 1,
  hash: "a".repeat(64),
  previousHash: null,
  layer: "base",
  changedPaths: [],
  trigger: "write",
  actor: "alice",
  source: "api",
});

const logger = createLogger({ service: "outbox-test", level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("transactional outbox", () => {
  let db: TestDatabase;
  let t: TestBus;
  let jsm: JetStreamManager;
  const relays: OutboxRelay[] = [];

  const relay = (over: Partial<OutboxRelayConfig> = {}) => {
    const r = createOutboxRelay({
      pool: db.pool,
      bus: t.bus,
      logger,
      databaseUrl: db.url,
      lockRetryMs: 100,
      pollIntervalMs: 200,
      ...over,
    });
    relays.push(r);
    return r;
  };
  const enqueue = (revision: number, namespace?: string) =>
    withTransaction(db.pool, (c) => enqueueEvent(c, t.bus, CONFIG_CHANGED, changed(revision, namespace)));
  const streamCount = async () => (await jsm.streams.info(t.streams.events)).state.messages;
  const unpublished = async () =>
    (await db.pool.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL")).rows[0]
      .n as number;

  beforeAll(async () => {
    [db, t] = await Promise.all([createTestDatabase({ schema: "kit_outbox" }), createTestBus()]);
    jsm = await jetstreamManager(t.nc);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await db.pool.query("TRUNCATE outbox");
  });
  afterAll(async () => {
    await t?.cleanup();
    await db?.drop();
  });

  it("publishes a committed event exactly once, with Nats-Msg-Id = event id", async () => {
    const r = relay();
    await r.start();
    expect(r.isActive()).toBe(true);
    const before = await streamCount();
    const got = collectEvents(t.nc, t.bus.subject("nexus.config.changed.>"), 1);
    const event = await enqueue(1);
    const [msg] = await got;
    expect(msg!.event).toEqual(event);
    expect(msg!.headers["Nats-Msg-Id"]).toBe(event.id);
    await r.drain();
    await sleep(250); // a poll in between must not publish it again
    expect(await streamCount()).toBe(before + 1);
    const row = await db.pool.query("SELECT published_at, attempts FROM outbox WHERE id = $1", [event.id]);
    expect(row.rows[0].published_at).toBeInstanceOf(Date);
  });

  it("publishes nothing for a rolled-back transaction", async () => {
    const r = relay();
    await r.start();
    const before = await streamCount();
    await expect(
      withTransaction(db.pool, async (c) => {
        await enqueueEvent(c, t.bus, CONFIG_CHANGED, changed(1));
        throw new Error("the state change failed");
      }),
    ).rejects.toThrow("the state change failed");
    await r.drain();
    expect(await streamCount()).toBe(before);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n).toBe(0);
  });

  it("refuses an invalid event inside the transaction", async () => {
    await expect(
      withTransaction(db.pool, (c) => enqueueEvent(c, t.bus, CONFIG_CHANGED, { ...changed(1), hash: "x" })),
    ).rejects.toThrow(/hash/);
  });

  it("re-publishes after a crash between publish and mark; JetStream drops the copy", async () => {
    const event = await enqueue(1, "crashy");
    // The crash: the previous relay published the row but died before stamping published_at.
    const row = (
      await db.pool.query("SELECT subject, payload, headers FROM outbox WHERE id = $1", [event.id])
    ).rows[0];
    expect((await t.bus.publishEnvelope(row.subject, row.payload, row.headers)).duplicate).toBe(false);

    const seen: string[] = [];
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "crash-reader", filterSubjects: ["nexus.config.changed.production.crashy"] },
      (e) => {
        seen.push(e.id);
      },
    );
    const published: number[][] = [];
    const r = relay({ onPublished: (count, _lag, duplicates) => published.push([count, duplicates]) });
    await r.start();
    await r.drain();
    expect(published).toEqual([[1, 1]]);
    expect(await unpublished()).toBe(0);
    await vi.waitFor(() => expect(seen).toEqual([event.id]), { timeout: 3_000 });
    await sleep(200);
    await consumption.stop();
    expect(seen).toEqual([event.id]);
  });

  it("keeps one relay active (advisory lock) and fails over when it stops", async () => {
    const a = relay();
    const b = relay();
    await a.start();
    await b.start();
    expect([a.isActive(), b.isActive()]).toEqual([true, false]);

    const first = collectEvents(t.nc, t.bus.subject("nexus.config.changed.>"), 1);
    await enqueue(1);
    await first;

    await a.stop();
    await vi.waitFor(() => expect(b.isActive()).toBe(true), { timeout: 2_000, interval: 20 });
    const second = collectEvents(t.nc, t.bus.subject("nexus.config.changed.>"), 1);
    const event = await enqueue(2);
    expect((await second)[0]!.event).toMatchObject({ id: event.id });
  });

  it("publishes in seq order, also while writes keep coming", async () => {
    const r = relay({ batchSize: 7 });
    await r.start();
    const n = 60;
    const got = collectEvents<{ data: ConfigChanged }>(t.nc, t.bus.subject("nexus.config.changed.>"), n);
    for (let i = 1; i <= n; i++) await enqueue(i, "ordered");
    const revisions = (await got).map((m) => m.event.data.revision);
    expect(revisions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });

  it("retries a failed publish with backoff, never skipping the row", async () => {
    let failuresLeft = 2;
    const flaky: Pick<Bus, "publishSerialized"> = {
      publishSerialized: (subject, id, json, headers) =>
        failuresLeft-- > 0
          ? Promise.reject(new Error("nats unavailable"))
          : t.bus.publishSerialized(subject, id, json, headers),
    };
    const r = relay({ bus: flaky });
    await r.start();
    const got = collectEvents<{ data: ConfigChanged }>(t.nc, t.bus.subject("nexus.config.changed.>"), 2);
    await withTransaction(db.pool, async (c) => {
      await enqueueEvent(c, t.bus, CONFIG_CHANGED, changed(1, "retried"));
      await enqueueEvent(c, t.bus, CONFIG_CHANGED, changed(2, "retried"));
    });
    expect((await got).map((m) => m.event.data.revision)).toEqual([1, 2]);
    const rows = await db.pool.query("SELECT attempts, last_error FROM outbox ORDER BY seq");
    // Both failures hit the first row; the second, of the same subject, waited for it.
    expect(rows.rows[0]).toMatchObject({ attempts: 2, last_error: "nats unavailable" });
    expect(rows.rows[1]).toMatchObject({ attempts: 0 });
  });

  it("deletes published rows past the retention, and only those", async () => {
    await enqueue(1);
    await enqueue(2);
    await enqueue(3);
    await db.pool.query(
      "UPDATE outbox SET published_at = now() - interval '8 days' WHERE seq = (SELECT min(seq) FROM outbox)",
    );
    await db.pool.query(
      "UPDATE outbox SET published_at = now() WHERE seq = (SELECT min(seq) FROM outbox WHERE published_at IS NULL)",
    );
    expect(await deletePublishedOutbox(db.pool, 7 * 24 * 60 * 60 * 1_000)).toBe(1);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n).toBe(2);
  });

  it("publishes a batch enqueued without NOTIFY when woken after commit, in this process or another", async () => {
    // Polls far apart: within the test only wake() can trigger a pass.
    const active = relay({ pollIntervalMs: 60_000 });
    await active.start();
    const standby = relay({ pollIntervalMs: 60_000 });
    await standby.start();
    expect(active.isActive()).toBe(true);
    expect(standby.isActive()).toBe(false);

    const publishBatch = async (first: number, wake: OutboxRelay) => {
      const rows = prepareOutboxRows(t.bus, CONFIG_CHANGED, [
        changed(first, "woken"),
        changed(first + 1, "woken"),
      ]);
      const got = collectEvents<{ id: string }>(
        t.nc,
        t.bus.subject("nexus.config.changed.production.woken"),
        2,
        5_000,
      );
      await withTransaction(db.pool, (c) => enqueueEvents(c, rows));
      wake.wake();
      const events = await got;
      expect(events.map((e) => e.event.id)).toEqual(rows.ids);
      expect(events.map((e) => e.headers["Nats-Msg-Id"])).toEqual(rows.ids);
    };
    await publishBatch(1, active); // in process
    await publishBatch(3, standby); // a NOTIFY from the instance that does not relay
    await expect.poll(unpublished).toBe(0);
  });

  it("publishes handed-over rows from memory in ticket order, without reading them back", async () => {
    // Count the relay's reads of the outbox through its pool; polls far apart.
    const reads: string[] = [];
    const counting = {
      query: ((...args: Parameters<typeof db.pool.query>) => {
        const text = typeof args[0] === "string" ? args[0] : (args[0] as { text: string }).text;
        if (/SELECT seq, id, subject/.test(text)) reads.push(text);
        return (db.pool.query as (...a: unknown[]) => unknown)(...args);
      }) as typeof db.pool.query,
    };
    const r = relay({ pool: counting, pollIntervalMs: 60_000 });
    await r.start();
    await expect.poll(() => reads.length).toBeGreaterThan(0); // the first pass reads
    await sleep(50);
    const readsBefore = reads.length;

    const rowsOf = (revision: number) =>
      prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(revision, "handed")]);
    const first = rowsOf(1);
    const second = rowsOf(2);
    const subject = t.bus.subject("nexus.config.changed.production.handed");
    let arrived = 0;
    t.nc.subscribe(subject, { callback: () => void arrived++ });
    await t.nc.flush();
    const got = collectEvents<{ id: string; data: ConfigChanged }>(t.nc, subject, 2, 5_000);
    await withTransaction(db.pool, (c) => enqueueEvents(c, first));
    const firstTicket = r.handOver(first);
    await withTransaction(db.pool, (c) => enqueueEvents(c, second));
    const secondTicket = r.handOver(second);
    // The later write is ready first: it waits for the one committed before it.
    secondTicket.release();
    await sleep(150);
    expect(arrived).toBe(0);
    firstTicket.release();
    const events = await got;
    expect(events.map((e) => e.event.data.revision)).toEqual([1, 2]);
    expect(events.map((e) => e.headers["Nats-Msg-Id"])).toEqual([...first.ids, ...second.ids]);
    await expect.poll(unpublished).toBe(0);
    expect(reads.length).toBe(readsBefore);

    // A wake without rows (another kind of write) reads the outbox, and publishes nothing twice.
    r.wake();
    await expect.poll(() => reads.length).toBeGreaterThan(readsBefore);
    await sleep(100);
    expect(arrived).toBe(2);
  });

  it("stamps handed-over rows together after the delay, and before a read or stop", async () => {
    const marks: string[] = [];
    const counting = {
      query: ((...args: Parameters<typeof db.pool.query>) => {
        const text = typeof args[0] === "string" ? args[0] : (args[0] as { text: string }).text;
        if (/UPDATE outbox SET published_at = now\(\)/.test(text)) marks.push(text);
        return (db.pool.query as (...a: unknown[]) => unknown)(...args);
      }) as typeof db.pool.query,
    };
    const r = relay({ pool: counting, pollIntervalMs: 60_000, markDelayMs: 400 });
    await r.start();
    await sleep(100);
    const subject = t.bus.subject("nexus.config.changed.production.stamped");
    const got = collectEvents<{ data: ConfigChanged }>(t.nc, subject, 3, 5_000);
    for (const revision of [1, 2, 3]) {
      const rows = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(revision, "stamped")]);
      await withTransaction(db.pool, (c) => enqueueEvents(c, rows));
      r.handOver(rows).release();
      await sleep(20);
    }
    expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2, 3]);
    // Published, not yet stamped: still pending in the table until the delay is over.
    expect(await unpublished()).toBe(3);
    await expect.poll(unpublished, { timeout: 2_000 }).toBe(0);
    expect(marks).toHaveLength(1);

    // Stop writes the stamps it holds.
    const more = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(4, "stamped")]);
    const fourth = collectEvents<{ data: ConfigChanged }>(t.nc, subject, 1, 5_000);
    await withTransaction(db.pool, (c) => enqueueEvents(c, more));
    r.handOver(more).release();
    expect((await fourth).map((e) => e.event.data.revision)).toEqual([4]);
    expect(await unpublished()).toBe(1);
    await r.stop();
    expect(await unpublished()).toBe(0);
    expect(marks).toHaveLength(2);
  });

  it("falls back to reading the outbox when handed rows cannot be published, and loses none", async () => {
    const r = relay({ pollIntervalMs: 200 });
    await r.start();
    await sleep(100);
    const rows = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(1, "fails"), changed(2, "fails")]);
    await withTransaction(db.pool, (c) => enqueueEvents(c, rows));
    const spy = vi.spyOn(t.bus, "publishSerialized").mockRejectedValueOnce(new Error("NATS is down"));
    const got = collectEvents<{ data: ConfigChanged }>(
      t.nc,
      t.bus.subject("nexus.config.changed.production.fails"),
      2,
      10_000,
    );
    r.handOver(rows).release();
    const events = await got;
    spy.mockRestore();
    // Both arrive, in order: the second is held back until the first is through (by the read
    // that follows the failure).
    expect(events.map((e) => e.event.data.revision)).toEqual([1, 2]);
    await expect.poll(unpublished).toBe(0);
  });

  it("publishes handed rows in commit order when their commits' answers were heard the other way round", async () => {
    const r = relay({ pollIntervalMs: 60_000 });
    await r.start();
    await sleep(100);
    const subject = t.bus.subject("nexus.config.changed.production.swapped");
    const got = collectEvents<{ data: ConfigChanged }>(t.nc, subject, 2, 5_000);
    const first = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(1, "swapped")]);
    const second = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(2, "swapped")]);
    await withTransaction(db.pool, (c) => enqueueEvents(c, first));
    await withTransaction(db.pool, (c) => enqueueEvents(c, second));
    // The second commit's answer is processed first, so it is handed over first; both are
    // released before the relay takes them, so they go out as one batch.
    const late = r.handOver(second);
    const early = r.handOver(first);
    early.release(); // held back by the ticket before it
    late.release(); // now both, in one batch: second, first
    expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2]);
  });

  it("never publishes a handed row ahead of an earlier row of its subject that only the table holds", async () => {
    // What another instance's write (or a path that hands nothing over) leaves: committed, in
    // the table, not handed to this relay, and its NOTIFY not yet heard (polls far apart).
    const r = relay({ pollIntervalMs: 60_000 });
    await r.start();
    await sleep(100);
    const subject = t.bus.subject("nexus.config.changed.production.elsewhere");
    const got = collectEvents<{ data: ConfigChanged }>(t.nc, subject, 2, 5_000);
    const earlier = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(1, "elsewhere")]);
    await db.pool.query(
      "INSERT INTO outbox (id, subject, payload, headers) VALUES ($1, $2, $3::jsonb, $4::jsonb)",
      [earlier.ids[0], earlier.subjects[0], earlier.payloads[0], earlier.headers[0]],
    );
    const later = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(2, "elsewhere")]);
    await withTransaction(db.pool, (c) => enqueueEvents(c, later));
    r.handOver(later).release();
    expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2]);
    await expect.poll(unpublished).toBe(0);
  });

  describe("handed rows with the places their commits saw (no query after the commit)", () => {
    /** The relay's pool, recording the order check and the reads of the outbox. */
    const counted = () => {
      const seen = { orderChecks: 0, reads: 0 };
      const pool = {
        query: ((...args: Parameters<typeof db.pool.query>) => {
          const text = typeof args[0] === "string" ? args[0] : (args[0] as { text: string }).text;
          if (/WITH batch AS/.test(text)) seen.orderChecks++;
          if (/SELECT seq, id, subject/.test(text)) seen.reads++;
          return (db.pool.query as (...a: unknown[]) => unknown)(...args);
        }) as typeof db.pool.query,
      };
      return { seen, pool };
    };
    const placed = async (revision: number, namespace: string) => {
      const rows = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(revision, namespace)]);
      const places = await withTransaction(db.pool, (c) => enqueuePlacedEvents(c, rows));
      return { rows, places };
    };

    it("publishes them in commit order without asking the table, what the earlier commits published counting as done", async () => {
      const { seen, pool } = counted();
      const r = relay({ pool, pollIntervalMs: 60_000, markDelayMs: 5_000 });
      await r.start();
      await expect.poll(() => seen.reads).toBeGreaterThan(0);
      await sleep(50);
      const readsBefore = seen.reads;
      const subject = t.bus.subject("nexus.config.changed.production.placed");
      let arrived = 0;
      t.nc.subscribe(subject, { callback: () => void arrived++ });
      await t.nc.flush();
      const got = collectEvents<{ data: ConfigChanged }>(t.nc, subject, 4, 5_000);

      // Stamps wait 5 s: each commit sees the rows before it as unpublished, and the relay knows
      // it published them.
      const first = await placed(1, "placed");
      expect(first.places).toEqual([{ id: first.rows.ids[0], seq: expect.any(Number), earlier: [] }]);
      r.handOver(first.rows, first.places).release();
      await expect.poll(() => arrived).toBe(1);
      const second = await placed(2, "placed");
      expect(second.places[0]?.earlier).toEqual(first.rows.ids);
      // Answers heard the other way round: sorted by seq within the batch.
      const third = await placed(3, "placed");
      const fourth = await placed(4, "placed");
      const late = r.handOver(fourth.rows, fourth.places);
      const early = r.handOver(third.rows, third.places);
      r.handOver(second.rows, second.places).release();
      early.release();
      late.release();
      expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2, 3, 4]);
      expect(seen.orderChecks).toBe(0);
      expect(seen.reads).toBe(readsBefore);
    });

    it("goes through the table when a commit saw an earlier row of its subject that this relay did not publish", async () => {
      const { seen, pool } = counted();
      const r = relay({ pool, pollIntervalMs: 60_000 });
      await r.start();
      await expect.poll(() => seen.reads).toBeGreaterThan(0);
      await sleep(50);
      const readsBefore = seen.reads;
      const subject = t.bus.subject("nexus.config.changed.production.placed-elsewhere");
      const got = collectEvents<{ data: ConfigChanged }>(t.nc, subject, 2, 5_000);
      // Another instance's commit: in the table, not handed here, its NOTIFY not heard.
      const earlier = prepareOutboxRows(t.bus, CONFIG_CHANGED, [changed(1, "placed-elsewhere")]);
      await withTransaction(db.pool, (c) => enqueueEvents(c, earlier));
      const later = await placed(2, "placed-elsewhere");
      expect(later.places[0]?.earlier).toEqual(earlier.ids);
      r.handOver(later.rows, later.places).release();
      expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2]);
      expect(seen.reads).toBeGreaterThan(readsBefore);
      expect(seen.orderChecks).toBe(0);
      await expect.poll(unpublished).toBe(0);
    });
  });
});
