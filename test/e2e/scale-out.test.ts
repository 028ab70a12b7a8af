import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SPAN_KIND, spanAttribute } from "../support/otlp-receiver.js";
import { type ScaleOut, startScaleOut } from "../support/scale-out.js";
import type { ServiceProcess } from "../support/service-process.js";

/**
 * Two instances of every service (built, as deployed) on one NATS, Postgres and Redis. Config
 * writes go to both registry instances; one instance of each service is killed halfway. Every
 * write is published once (one outbox relay at a time), the drift-detector's durable shares the
 * events between its instances (their names on the consumer spans) and records each one
 * exactly once, and the survivors finish the work.
 */
describe("scale-out: two instances of every service", () => {
  let world: ScaleOut;

  beforeAll(async () => {
    world = await startScaleOut();
  }, 240_000);
  afterAll(async () => {
    await world?.stop();
  });

  it("publishes and processes every write once, shares the work, and survives losing one of each", async () => {
    const { db, nats, receiver, send } = world;
    const registries = world.instances.get("config-registry") ?? [];
    expect(registries).toHaveLength(2);
    expect(
      (await send(registries[0]?.url as string, "POST", "/v1/namespaces", { name: "scale-shop" })).status,
    ).toBe(201);

    const writes = 30;
    const write = async (i: number, registry: ServiceProcess | undefined) => {
      const env = ["development", "staging", "production"][i % 3];
      const res = await send(registry?.url as string, "PUT", `/v1/namespaces/scale-shop/layers/${env}`, {
        step: i,
      });
      expect(res.status, `write ${i}`).toBe(200);
    };
    for (let i = 1; i <= writes / 2; i++) await write(i, registries[i % 2]);

    // Shared: both drift-detector instances handle config.changed (their names on the spans).
    const headsInstances = () =>
      [
        ...new Set(
          receiver.spans
            .filter(
              (s) =>
                s.service === "drift-detector" &&
                s.kind === SPAN_KIND.CONSUMER &&
                spanAttribute(s, "messaging.consumer.group.name") === "drift-changes",
            )
            .map((s) => s.instance),
        ),
      ].sort();
    await expect
      .poll(headsInstances, { timeout: 15_000, interval: 250 })
      .toEqual(["drift-detector-1", "drift-detector-2"]);

    // One instance of every service dies (SIGKILL: no shutdown, no hand-over); the rest goes on.
    await world.killFirstOfEach();
    for (let i = writes / 2 + 1; i <= writes; i++) await write(i, registries[1]);

    // Published once each: the stream holds exactly as many config.changed as the outbox has rows.
    const outbox = await db.pool.query(
      "SELECT count(*)::int AS n FROM config_registry.outbox WHERE subject LIKE '%config.changed.%'",
    );
    const changes = outbox.rows[0].n as number;
    expect(changes).toBeGreaterThanOrEqual(writes);
    const jsm = await jetstreamManager(nats.nc);
    const streamCount = async () => {
      const info = await jsm.streams.info(nats.streams.events, {
        subjects_filter: `${nats.prefix}.config.changed.>`,
      });
      return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    };
    await expect.poll(streamCount, { timeout: 20_000, interval: 200 }).toBe(changes);

    // Processed exactly once by the drift-detector's durable (its heads part's key), the survivor
    // finishing the rest.
    const processed = async () =>
      (
        await db.pool.query(
          "SELECT count(*)::int AS n FROM drift_detector.processed_events WHERE consumer = 'drift-heads'",
        )
      ).rows[0].n as number;
    await expect.poll(processed, { timeout: 30_000, interval: 250 }).toBe(changes);
    await new Promise((r) => setTimeout(r, 500));
    expect(await processed()).toBe(changes);
  }, 180_000);
});
