/**
 * The kit's consumer metrics against a real JetStream: a handler that fails until its last
 * delivery shows up as a redelivery, a dead letter by reason and a message in the DLQ; the
 * durable's counts come from the server.
 */
import { CONFIG_CHANGED } from "@nexus/contracts";
import { collectEvents, createTestBus, parsePrometheusText, type TestBus } from "@nexus/test-fixtures";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerBusMetrics } from "../../src/metrics/index.js";
import { changedEvent } from "./changed-event.js";

const changed = (namespace: string) => changedEvent({ namespace });

describe("bus metrics", () => {
  let t: TestBus;
  beforeAll(async () => {
    t = await createTestBus({ source: "nexus/bus-metrics-test" });
    await t.bus.ensureStreams();
  });
  afterAll(async () => t?.cleanup());

  it("reports pending, redeliveries and dead letters per durable", async () => {
    const registry = new Registry();
    const metrics = registerBusMetrics(registry, t.bus);
    metrics.start();
    const dlq = collectEvents(t.nc, `${t.prefix}.dlq.metered`, 1);
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "metered", maxDeliver: 2, backoffMs: [50], deliverPolicy: "new" },
      (e) => {
        if (e.data.namespace === "bad") throw new Error("cannot handle it");
      },
    );
    await t.bus.publish(CONFIG_CHANGED, changed("bad"));
    await t.bus.publish(CONFIG_CHANGED, changed("good"));
    await dlq;
    // Counted once the dead letter's PubAck is back, a moment after it reached the DLQ.
    const m = await vi.waitFor(async () => {
      const scraped = parsePrometheusText(await registry.metrics());
      expect(scraped.find("nexus_dead_letters_total", { durable: "metered" })).toHaveLength(1);
      return scraped;
    });
    await consumption.stop();
    metrics.stop();

    const durable = { durable: "metered" };
    expect(m.value("nexus_consumer_redeliveries_total", durable)).toBe(1);
    expect(m.value("nexus_dead_letters_total", { ...durable, reason: "handler_failed" })).toBe(1);
    expect(m.value("nexus_dead_letter_messages", durable)).toBe(1);
    const consumer = { ...durable, consumer: "metered-config-changed" };
    expect(m.value("nexus_consumer_pending_messages", consumer)).toBe(0);
    expect(m.value("nexus_consumer_ack_pending_messages", consumer)).toBeGreaterThanOrEqual(0);
    expect(m.value("nexus_consumer_redelivered_messages", consumer)).toBeGreaterThanOrEqual(0);
    // A stopped consumption is no longer reported (once the last scrape's read has aged out).
    await new Promise((r) => setTimeout(r, 250));
    const after = parsePrometheusText(await registry.metrics());
    expect(after.find("nexus_consumer_pending_messages", durable)).toEqual([]);
  });
});
