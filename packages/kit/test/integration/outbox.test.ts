import { CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import { collectEvents } from "@nexus/test-fixtures";
import { describe, expect, it, vi } from "vitest";
import type { Bus } from "../../src/bus/index.js";
import { withTransaction } from "../../src/db/pool.js";
import {
  deletePublishedOutbox,
  enqueueEvent,
  enqueueEvents,
  type OutboxRelay,
  prepareOutboxRows,
} from "../../src/outbox/index.js";
import { changed, sleep, useOutboxWorld } from "./outbox-world.js";

/** The outbox read from its table: committed events published once, in order, retried, failed over. */
describe("transactional outbox", () => {
  const w = useOutboxWorld();
  const streamCount = async () => (await w.jsm.streams.info(w.t.streams.events)).state.messages;

  it("publishes a committed event exactly once, with Nats-Msg-Id = event id", async () => {
    const r = w.relay();
    await r.start();
    expect(r.isActive()).toBe(true);
    const before = await streamCount();
    const got = collectEvents(w.t.nc, w.t.bus.subject("nexus.config.changed.>"), 1);
    const event = await w.enqueue(1);
    const [msg] = await got;
    expect(msg!.event).toEqual(event);
    expect(msg!.headers["Nats-Msg-Id"]).toBe(event.id);
    await r.drain();
    await sleep(250); // a poll in between must not publish it again
    expect(await streamCount()).toBe(before + 1);
    const row = await w.db.pool.query("SELECT published_at, attempts FROM outbox WHERE id = $1", [event.id]);
    expect(row.rows[0].published_at).toBeInstanceOf(Date);
  });

  it("publishes nothing for a rolled-back transaction", async () => {
    const r = w.relay();
    await r.start();
    const before = await streamCount();
    await expect(
      withTransaction(w.db.pool, async (c) => {
        await enqueueEvent(c, w.t.bus, CONFIG_CHANGED, changed(1));
        throw new Error("the state change failed");
      }),
    ).rejects.toThrow("the state change failed");
    await r.drain();
    expect(await streamCount()).toBe(before);
    expect((await w.db.pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n).toBe(0);
  });

  it("refuses an invalid event inside the transaction", async () => {
    await expect(
      withTransaction(w.db.pool, (c) =>
        enqueueEvent(c, w.t.bus, CONFIG_CHANGED, { ...changed(1), hash: "x" }),
      ),
    ).rejects.toThrow(/hash/);
  });

  it("re-publishes after a crash between publish and mark; JetStream drops the copy", async () => {
    const event = await w.enqueue(1, "crashy");
    // The crash: the previous relay published the row but died before stamping published_at.
    const row = (
      await w.db.pool.query("SELECT subject, payload, headers FROM outbox WHERE id = $1", [event.id])
    ).rows[0];
    expect((await w.t.bus.publishEnvelope(row.subject, row.payload, row.headers)).duplicate).toBe(false);

    const seen: string[] = [];
    const consumption = await w.t.bus.consume(
      CONFIG_CHANGED,
      { durable: "crash-reader", filterSubjects: ["nexus.config.changed.production.crashy"] },
      (e) => {
        seen.push(e.id);
      },
    );
    const published: number[][] = [];
    const r = w.relay({ onPublished: (count, _lag, duplicates) => published.push([count, duplicates]) });
    await r.start();
    await r.drain();
    expect(published).toEqual([[1, 1]]);
    expect(await w.unpublished()).toBe(0);
    await vi.waitFor(() => expect(seen).toEqual([event.id]), { timeout: 3_000 });
    await sleep(200);
    await consumption.stop();
    expect(seen).toEqual([event.id]);
  });

  it("keeps one relay active (advisory lock) and fails over when it stops", async () => {
    const a = w.relay();
    const b = w.relay();
    await a.start();
    await b.start();
    expect([a.isActive(), b.isActive()]).toEqual([true, false]);

    const first = collectEvents(w.t.nc, w.t.bus.subject("nexus.config.changed.>"), 1);
    await w.enqueue(1);
    await first;

    await a.stop();
    await vi.waitFor(() => expect(b.isActive()).toBe(true), { timeout: 2_000, interval: 20 });
    const second = collectEvents(w.t.nc, w.t.bus.subject("nexus.config.changed.>"), 1);
    const event = await w.enqueue(2);
    expect((await second)[0]!.event).toMatchObject({ id: event.id });
  });

  it("publishes in seq order, also while writes keep coming", async () => {
    const r = w.relay({ batchSize: 7 });
    await r.start();
    const n = 60;
    const got = collectEvents<{ data: ConfigChanged }>(w.t.nc, w.t.bus.subject("nexus.config.changed.>"), n);
    for (let i = 1; i <= n; i++) await w.enqueue(i, "ordered");
    const revisions = (await got).map((m) => m.event.data.revision);
    expect(revisions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });

  it("retries a failed publish with backoff, never skipping the row", async () => {
    let failuresLeft = 2;
    const flaky: Pick<Bus, "publishSerialized"> = {
      publishSerialized: (subject, id, json, headers) =>
        failuresLeft-- > 0
          ? Promise.reject(new Error("nats unavailable"))
          : w.t.bus.publishSerialized(subject, id, json, headers),
    };
    const r = w.relay({ bus: flaky });
    await r.start();
    const got = collectEvents<{ data: ConfigChanged }>(w.t.nc, w.t.bus.subject("nexus.config.changed.>"), 2);
    await withTransaction(w.db.pool, async (c) => {
      await enqueueEvent(c, w.t.bus, CONFIG_CHANGED, changed(1, "retried"));
      await enqueueEvent(c, w.t.bus, CONFIG_CHANGED, changed(2, "retried"));
    });
    expect((await got).map((m) => m.event.data.revision)).toEqual([1, 2]);
    const rows = await w.db.pool.query("SELECT attempts, last_error FROM outbox ORDER BY seq");
    // Both failures hit the first row; the second, of the same subject, waited for it.
    expect(rows.rows[0]).toMatchObject({ attempts: 2, last_error: "nats unavailable" });
    expect(rows.rows[1]).toMatchObject({ attempts: 0 });
  });

  it("deletes published rows past the retention, and only those", async () => {
    await w.enqueue(1);
    await w.enqueue(2);
    await w.enqueue(3);
    await w.db.pool.query(
      "UPDATE outbox SET published_at = now() - interval '8 days' WHERE seq = (SELECT min(seq) FROM outbox)",
    );
    await w.db.pool.query(
      "UPDATE outbox SET published_at = now() WHERE seq = (SELECT min(seq) FROM outbox WHERE published_at IS NULL)",
    );
    expect(await deletePublishedOutbox(w.db.pool, 7 * 24 * 60 * 60 * 1_000)).toBe(1);
    expect((await w.db.pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n).toBe(2);
  });

  it("publishes a batch enqueued without NOTIFY when woken after commit, in this process or another", async () => {
    // Polls far apart: within the test only wake() can trigger a pass.
    const active = w.relay({ pollIntervalMs: 60_000 });
    await active.start();
    const standby = w.relay({ pollIntervalMs: 60_000 });
    await standby.start();
    expect(active.isActive()).toBe(true);
    expect(standby.isActive()).toBe(false);

    const publishBatch = async (first: number, wake: OutboxRelay) => {
      const rows = prepareOutboxRows(w.t.bus, CONFIG_CHANGED, [
        changed(first, "woken"),
        changed(first + 1, "woken"),
      ]);
      const got = collectEvents<{ id: string }>(
        w.t.nc,
        w.t.bus.subject("nexus.config.changed.production.woken"),
        2,
        5_000,
      );
      await withTransaction(w.db.pool, (c) => enqueueEvents(c, rows));
      wake.wake();
      const events = await got;
      expect(events.map((e) => e.event.id)).toEqual(rows.ids);
      expect(events.map((e) => e.headers["Nats-Msg-Id"])).toEqual(rows.ids);
    };
    await publishBatch(1, active); // in process
    await publishBatch(3, standby); // a NOTIFY from the instance that does not relay
    await expect.poll(w.unpublished).toBe(0);
  });
});
