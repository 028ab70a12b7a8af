import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED } from "@nexus/contracts";
import { createTestBus, type TestBus } from "@nexus/test-fixtures";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { consumeWhileWanted } from "../../src/bus/index.js";
import { changedEvent } from "./changed-event.js";

const changed = (namespace: string) => changedEvent({ namespace });
const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe("consumeWhileWanted", () => {
  let t: TestBus;
  let jsm: JetStreamManager;
  beforeEach(async () => {
    t = await createTestBus({ source: "nexus/wanted-test" });
    jsm = await jetstreamManager(t.nc);
  });
  afterEach(async () => t?.cleanup());

  it("has no durable while unwanted, consumes from the time it became wanted, and deletes the durable when no longer wanted", async () => {
    const durable = () => jsm.consumers.info(t.streams.events, "wanted-config-changed").catch(() => null);
    let since: Date | null = null;
    const handled: string[] = [];
    const wanted = consumeWhileWanted({
      what: "config.changed",
      logger: silent,
      everyMs: 60_000,
      wantedSince: async () => since,
      start: (from) =>
        t.bus.consumeBatches(CONFIG_CHANGED, { durable: "wanted", startAt: from }, async (items) => {
          handled.push(...items.map((i) => i.event.data.namespace));
        }),
      drop: () => t.bus.dropDurables("wanted", [CONFIG_CHANGED]),
    });
    // A durable left from before (another instance, an earlier run) is deleted by the first check.
    await t.bus
      .consumeBatches(CONFIG_CHANGED, { durable: "wanted" }, async () => undefined)
      .then((c) => c.stop());
    expect(await durable()).not.toBeNull();
    await wanted.start();
    expect(await durable()).toBeNull();
    expect(wanted.consuming()).toBe(false);

    await t.bus.publish(CONFIG_CHANGED, changed("before"));
    await new Promise((r) => setTimeout(r, 50));
    since = new Date();
    await t.bus.publish(CONFIG_CHANGED, changed("after"));
    await wanted.check();
    expect(wanted.consuming()).toBe(true);
    await vi.waitFor(() => expect(handled).toEqual(["after"]), { timeout: 10_000 });

    since = null;
    await wanted.check();
    expect(wanted.consuming()).toBe(false);
    expect(await durable()).toBeNull();
    await t.bus.publish(CONFIG_CHANGED, changed("unwanted"));
    await new Promise((r) => setTimeout(r, 300));
    expect(handled).toEqual(["after"]);
    await wanted.stop();
  });
});
