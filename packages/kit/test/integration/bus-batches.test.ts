import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED } from "@nexus/contracts";
import { collectEvents, createTestBus, type TestBus } from "@nexus/test-fixtures";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EventRefusedError } from "../../src/bus/index.js";
import { changedEvent } from "./changed-event.js";

const changed = (namespace: string, revision = 2) =>
  changedEvent({ namespace, revision, previousRevision: revision - 1 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("batch consumers", () => {
  let t: TestBus;
  let jsm: JetStreamManager;
  beforeEach(async () => {
    t = await createTestBus({ source: "nexus/batch-test" });
    jsm = await jetstreamManager(t.nc);
  });
  afterEach(async () => t?.cleanup());

  it("hands over what has arrived together, acks only after the handler; a poison message and a refused event are dead-lettered alone and the others applied", async () => {
    const subject = `${t.prefix}.config.changed.production.poison`;
    // Everything is in the stream before the consumer starts, so the first pull brings it all.
    for (const ns of ["one", "two"]) await t.bus.publish(CONFIG_CHANGED, changed(ns));
    await jetstream(t.nc).publish(subject, "this is not json");
    for (const ns of ["refused", "three", "four"]) await t.bus.publish(CONFIG_CHANGED, changed(ns));
    const dlq = collectEvents(t.nc, `${t.prefix}.dlq.batched`, 2, 20_000);

    const calls: string[][] = [];
    const applied: string[] = [];
    let ackedTooEarly = 0;
    const consumption = await t.bus.consumeBatches(
      CONFIG_CHANGED,
      { durable: "batched", maxBatch: 10 },
      async (items) => {
        calls.push(items.map((i) => i.event.data.namespace));
        // Nothing of this call is acknowledged while it runs.
        const floor = (await jsm.consumers.info(t.streams.events, "batched-config-changed")).ack_floor
          .stream_seq;
        ackedTooEarly += items.filter((i) => i.ctx.msg.seq <= floor).length;
        // All or nothing, as one transaction would be.
        const refused = items.find((i) => i.event.data.namespace === "refused");
        if (refused)
          throw new EventRefusedError("not_wanted", `no changes for ${refused.event.data.namespace}`);
        applied.push(...items.map((i) => i.event.data.namespace));
      },
    );
    const letters = await dlq;
    await vi.waitFor(() => expect(applied).toHaveLength(4), { timeout: 20_000 });
    await sleep(200);
    await consumption.stop();

    expect(applied).toEqual(["one", "two", "three", "four"]); // each once, in stream order
    // Taken together: everything was in the stream before the consumer started. How many come in
    // the first pull depends on the machine's load, so no batch boundary is asserted.
    expect(calls.some((c) => c.length > 1)).toBe(true);
    // "refused" was handed over, and every batch it failed had each of its events run alone after it.
    expect(calls.flat()).toContain("refused");
    for (const failed of calls.filter((c) => c.length > 1 && c.includes("refused")))
      for (const ns of failed) expect(calls.slice(calls.indexOf(failed) + 1)).toContainEqual([ns]);
    expect(ackedTooEarly).toBe(0);
    expect(letters.map((l) => l.headers["Nexus-Dlq-Reason"]!.split(":")[0]).sort()).toEqual([
      "invalid_json",
      "not_wanted",
    ]);
    const info = await jsm.consumers.info(t.streams.events, "batched-config-changed");
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(info.num_redelivered).toBe(0); // the failure was settled without a redelivery
  });

  it("retries a batch that fails for a passing reason, acking nothing until it succeeds", async () => {
    for (const ns of ["a", "b", "c"]) await t.bus.publish(CONFIG_CHANGED, changed(ns));
    let failures = 0;
    const applied: string[] = [];
    const consumption = await t.bus.consumeBatches(
      CONFIG_CHANGED,
      { durable: "flaky-batch", maxBatch: 10, backoffMs: [100] },
      async (items) => {
        if (items.some((i) => i.event.data.namespace === "b") && failures < 2) {
          failures++;
          throw new Error("database away");
        }
        applied.push(...items.map((i) => i.event.data.namespace));
      },
    );
    await vi.waitFor(() => expect(applied.sort()).toEqual(["a", "b", "c"]), { timeout: 20_000 });
    await consumption.stop();
    const info = await jsm.consumers.info(t.streams.events, "flaky-batch-config-changed");
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it("with waitMs, events arriving within the wait after a batch's first join it; without, each arrives alone", async () => {
    const run = async (durable: string, waitMs: number) => {
      const calls: string[][] = [];
      const consumption = await t.bus.consumeBatches(
        CONFIG_CHANGED,
        { durable, maxBatch: 10, waitMs, deliverPolicy: "new" },
        async (items) => {
          calls.push(items.map((i) => i.event.data.namespace));
        },
      );
      // Five events 40 ms apart: 160 ms from first to last.
      for (let i = 0; i < 5; i++) {
        await t.bus.publish(CONFIG_CHANGED, changed(`${durable}-${i}`));
        await sleep(40);
      }
      await vi.waitFor(() => expect(calls.flat()).toHaveLength(5), { timeout: 10_000 });
      await consumption.stop();
      return calls;
    };
    const waited = await run("waits", 1_000);
    expect(waited).toEqual([["waits-0", "waits-1", "waits-2", "waits-3", "waits-4"]]);
    // Each published 40 ms after the last was handled: nothing to take together.
    const alone = await run("alone", 0);
    expect(alone.length).toBeGreaterThan(1);
    expect(alone.flat()).toEqual(["alone-0", "alone-1", "alone-2", "alone-3", "alone-4"]);
  });

  it("a batch that fills up is handed over without waiting out waitMs", async () => {
    for (let i = 0; i < 4; i++) await t.bus.publish(CONFIG_CHANGED, changed(`full-${i}`));
    const calls: { at: number; n: number }[] = [];
    const started = Date.now();
    const consumption = await t.bus.consumeBatches(
      CONFIG_CHANGED,
      { durable: "full", maxBatch: 2, waitMs: 30_000 },
      async (items) => void calls.push({ at: Date.now() - started, n: items.length }),
    );
    await vi.waitFor(() => expect(calls.map((c) => c.n)).toEqual([2, 2]), { timeout: 10_000 });
    await consumption.stop();
    expect(Math.max(...calls.map((c) => c.at))).toBeLessThan(10_000);
  });

  it("takes over obsolete durables: starts where the slowest had got to, then deletes them", async () => {
    const ids: string[] = [];
    for (const ns of ["e1", "e2"]) ids.push((await t.bus.publish(CONFIG_CHANGED, changed(ns))).event.id);
    // old-a handles both; old-b handles e1 and fails e2 (so its ack floor stays at e1).
    const oldA: string[] = [];
    const a = await t.bus.consume(CONFIG_CHANGED, { durable: "old-a" }, (e) => void oldA.push(e.id));
    const oldB: string[] = [];
    const b = await t.bus.consume(CONFIG_CHANGED, { durable: "old-b", backoffMs: [60_000] }, (e) => {
      if (e.data.namespace === "e2") throw new Error("not now");
      oldB.push(e.id);
    });
    await vi.waitFor(() => expect([oldA.length, oldB.length]).toEqual([2, 1]), { timeout: 20_000 });
    await sleep(100);
    await Promise.all([a.stop(), b.stop()]);
    ids.push((await t.bus.publish(CONFIG_CHANGED, changed("e3"))).event.id);

    const seen: string[] = [];
    const merged = await t.bus.consumeBatches(
      CONFIG_CHANGED,
      { durable: "merged", replaces: ["old-a", "old-b"] },
      async (items) => void seen.push(...items.map((i) => i.event.id)),
    );
    await vi.waitFor(() => expect(seen).toEqual([ids[1], ids[2]]), { timeout: 20_000 });
    await merged.stop();

    const names: string[] = [];
    for await (const c of jsm.consumers.list(t.streams.events)) names.push(c.name);
    expect(names).toEqual(["merged-config-changed"]);

    // A second start (another instance, a restart) neither re-reads nor fails.
    const again = await t.bus.consumeBatches(
      CONFIG_CHANGED,
      { durable: "merged", replaces: ["old-a", "old-b"] },
      async (items) => void seen.push(...items.map((i) => i.event.id)),
    );
    await sleep(300);
    await again.stop();
    expect(seen).toHaveLength(2);
  });
});
