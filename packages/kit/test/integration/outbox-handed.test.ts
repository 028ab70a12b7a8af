import { CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import { collectEvents } from "@nexus/test-fixtures";
import { describe, expect, it, vi } from "vitest";
import { withTransaction } from "../../src/db/pool.js";
import { enqueueEvents, enqueuePlacedEvents, prepareOutboxRows } from "../../src/outbox/index.js";
import { changed, sleep, useOutboxWorld } from "./outbox-world.js";

/** Rows a write hands to the relay after its commit: published from memory, never out of order. */
describe("transactional outbox: handed-over rows", () => {
  const w = useOutboxWorld();

  it("publishes handed-over rows from memory in ticket order, without reading them back", async () => {
    // Count the relay's reads of the outbox through its pool; polls far apart.
    const { pool, seen } = w.recordingPool({ reads: /SELECT seq, id, subject/ });
    const reads = seen.reads;
    const r = w.relay({ pool, pollIntervalMs: 60_000 });
    await r.start();
    await expect.poll(() => reads.length).toBeGreaterThan(0); // the first pass reads
    await sleep(50);
    const readsBefore = reads.length;

    const rowsOf = (revision: number) =>
      prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(revision, "handed")]);
    const first = rowsOf(1);
    const second = rowsOf(2);
    const subject = w.t.bus.subject("nexus.config.changed.production.handed");
    let arrived = 0;
    w.t.nc.subscribe(subject, { callback: () => void arrived++ });
    await w.t.nc.flush();
    const got = collectEvents<{ id: string; data: ConfigChanged }>(w.t.nc, subject, 2, 5_000);
    await withTransaction(w.db.pool, (c) => enqueueEvents(c, first));
    const firstTicket = r.handOver(first);
    await withTransaction(w.db.pool, (c) => enqueueEvents(c, second));
    const secondTicket = r.handOver(second);
    // The later write is ready first: it waits for the one committed before it.
    secondTicket.release();
    await sleep(150);
    expect(arrived).toBe(0);
    firstTicket.release();
    const events = await got;
    expect(events.map((e) => e.event.data.revision)).toEqual([1, 2]);
    expect(events.map((e) => e.headers["Nats-Msg-Id"])).toEqual([...first.ids, ...second.ids]);
    await expect.poll(w.unpublished).toBe(0);
    expect(reads.length).toBe(readsBefore);

    // A wake without rows (another kind of write) reads the outbox, and publishes nothing twice.
    r.wake();
    await expect.poll(() => reads.length).toBeGreaterThan(readsBefore);
    await sleep(100);
    expect(arrived).toBe(2);
  });

  it("stamps handed-over rows together after the delay, and before a read or stop", async () => {
    const { pool, seen } = w.recordingPool({ marks: /UPDATE outbox SET published_at = now\(\)/ });
    const marks = seen.marks;
    const r = w.relay({ pool, pollIntervalMs: 60_000, markDelayMs: 400 });
    await r.start();
    await sleep(100);
    const subject = w.t.bus.subject("nexus.config.changed.production.stamped");
    const got = collectEvents<{ data: ConfigChanged }>(w.t.nc, subject, 3, 5_000);
    for (const revision of [1, 2, 3]) {
      const rows = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(revision, "stamped")]);
      await withTransaction(w.db.pool, (c) => enqueueEvents(c, rows));
      r.handOver(rows).release();
      await sleep(20);
    }
    expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2, 3]);
    // Published, not yet stamped: still pending in the table until the delay is over.
    expect(await w.unpublished()).toBe(3);
    await expect.poll(w.unpublished, { timeout: 2_000 }).toBe(0);
    expect(marks).toHaveLength(1);

    // Stop writes the stamps it holds.
    const more = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(4, "stamped")]);
    const fourth = collectEvents<{ data: ConfigChanged }>(w.t.nc, subject, 1, 5_000);
    await withTransaction(w.db.pool, (c) => enqueueEvents(c, more));
    r.handOver(more).release();
    expect((await fourth).map((e) => e.event.data.revision)).toEqual([4]);
    expect(await w.unpublished()).toBe(1);
    await r.stop();
    expect(await w.unpublished()).toBe(0);
    expect(marks).toHaveLength(2);
  });

  it("falls back to reading the outbox when handed rows cannot be published, and loses none", async () => {
    const r = w.relay({ pollIntervalMs: 200 });
    await r.start();
    await sleep(100);
    const rows = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(1, "fails"), changed(2, "fails")]);
    await withTransaction(w.db.pool, (c) => enqueueEvents(c, rows));
    const spy = vi.spyOn(w.t.bus, "publishSerialized").mockRejectedValueOnce(new Error("NATS is down"));
    const got = collectEvents<{ data: ConfigChanged }>(
      w.t.nc,
      w.t.bus.subject("nexus.config.changed.production.fails"),
      2,
      10_000,
    );
    r.handOver(rows).release();
    const events = await got;
    spy.mockRestore();
    // Both arrive, in order: the second is held back until the first is through (by the read
    // that follows the failure).
    expect(events.map((e) => e.event.data.revision)).toEqual([1, 2]);
    await expect.poll(w.unpublished).toBe(0);
  });

  it("publishes handed rows in commit order when their commits' answers were heard the other way round", async () => {
    const r = w.relay({ pollIntervalMs: 60_000 });
    await r.start();
    await sleep(100);
    const subject = w.t.bus.subject("nexus.config.changed.production.swapped");
    const got = collectEvents<{ data: ConfigChanged }>(w.t.nc, subject, 2, 5_000);
    const first = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(1, "swapped")]);
    const second = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(2, "swapped")]);
    await withTransaction(w.db.pool, (c) => enqueueEvents(c, first));
    await withTransaction(w.db.pool, (c) => enqueueEvents(c, second));
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
    const r = w.relay({ pollIntervalMs: 60_000 });
    await r.start();
    await sleep(100);
    const subject = w.t.bus.subject("nexus.config.changed.production.elsewhere");
    const got = collectEvents<{ data: ConfigChanged }>(w.t.nc, subject, 2, 5_000);
    const earlier = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(1, "elsewhere")]);
    await w.db.pool.query(
      "INSERT INTO outbox (id, subject, payload, headers) VALUES ($1, $2, $3::jsonb, $4::jsonb)",
      [earlier.ids[0], earlier.subjects[0], earlier.payloads[0], earlier.headers[0]],
    );
    const later = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(2, "elsewhere")]);
    await withTransaction(w.db.pool, (c) => enqueueEvents(c, later));
    r.handOver(later).release();
    expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2]);
    await expect.poll(w.unpublished).toBe(0);
  });

  describe("handed rows with the places their commits saw (no query after the commit)", () => {
    /** The relay's pool, recording the order check and the reads of the outbox. */
    const counted = () => w.recordingPool({ orderChecks: /WITH batch AS/, reads: /SELECT seq, id, subject/ });
    const placed = async (revision: number, namespace: string) => {
      const rows = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(revision, namespace)]);
      const places = await withTransaction(w.db.pool, (c) => enqueuePlacedEvents(c, rows));
      return { rows, places };
    };

    it("publishes them in commit order without asking the table, what the earlier commits published counting as done", async () => {
      const { seen, pool } = counted();
      const r = w.relay({ pool, pollIntervalMs: 60_000, markDelayMs: 5_000 });
      await r.start();
      await expect.poll(() => seen.reads.length).toBeGreaterThan(0);
      await sleep(50);
      const readsBefore = seen.reads.length;
      const subject = w.t.bus.subject("nexus.config.changed.production.placed");
      let arrived = 0;
      w.t.nc.subscribe(subject, { callback: () => void arrived++ });
      await w.t.nc.flush();
      const got = collectEvents<{ data: ConfigChanged }>(w.t.nc, subject, 4, 5_000);

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
      expect(seen.orderChecks.length).toBe(0);
      expect(seen.reads.length).toBe(readsBefore);
    });

    it("goes through the table when a commit saw an earlier row of its subject that this relay did not publish", async () => {
      const { seen, pool } = counted();
      const r = w.relay({ pool, pollIntervalMs: 60_000 });
      await r.start();
      await expect.poll(() => seen.reads.length).toBeGreaterThan(0);
      await sleep(50);
      const readsBefore = seen.reads.length;
      const subject = w.t.bus.subject("nexus.config.changed.production.placed-elsewhere");
      const got = collectEvents<{ data: ConfigChanged }>(w.t.nc, subject, 2, 5_000);
      // Another instance's commit: in the table, not handed here, its NOTIFY not heard.
      const earlier = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [changed(1, "placed-elsewhere")]);
      await withTransaction(w.db.pool, (c) => enqueueEvents(c, earlier));
      const later = await placed(2, "placed-elsewhere");
      expect(later.places[0]?.earlier).toEqual(earlier.ids);
      r.handOver(later.rows, later.places).release();
      expect((await got).map((e) => e.event.data.revision)).toEqual([1, 2]);
      expect(seen.reads.length).toBeGreaterThan(readsBefore);
      expect(seen.orderChecks.length).toBe(0);
      await expect.poll(w.unpublished).toBe(0);
    });
  });
});
