import { jetstreamManager } from "@nats-io/jetstream";
import { INSTANCE_HEARTBEAT } from "@nexus/contracts";
import {
  createTestDatabase,
  startTestIssuer,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DetectorProcess, startDetectorProcess } from "../../../../test/support/detector-process.js";
import { call, type Harness, startRegistry } from "../../../config-registry/test/integration/harness.js";
import { INVENTORY_DURABLE } from "../../src/inventory/inventory-consumer.js";
import {
  DETECTOR_MIGRATIONS,
  DETECTOR_SCHEMA,
  type Detector,
  eventually,
  heartbeat,
  startDetector,
  watchDriftEvents,
} from "./harness.js";

const INSTANCES = 40;

/**
 * A detector killed with SIGKILL while it holds reports it has neither written nor acked: JetStream
 * redelivers them to the next detector on the same database and stream, and every finding is raised
 * and announced exactly once.
 */
describe("a detector crash mid-stream", () => {
  let registry: Harness;
  let db: TestDatabase;
  let issuer: TestIssuer;
  let proc: DetectorProcess | undefined;
  let next: Detector | undefined;

  beforeAll(async () => {
    [registry, db, issuer] = await Promise.all([
      startRegistry(),
      createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS }),
      startTestIssuer(),
    ]);
  });
  afterAll(async () => {
    await proc?.kill();
    await next?.stop();
    await registry?.close();
    await issuer?.close();
    await db?.drop();
  });

  it("loses no finding: unacked reports come back to the next detector", async () => {
    expect((await call(registry, "POST", "/v1/namespaces", { name: "crashy" })).status).toBe(201);
    await call(registry, "PUT", "/v1/namespaces/crashy/layers/base", { v: 1 });
    const read = async () =>
      (await call(registry, "GET", "/v1/namespaces/crashy/environments/production/resolved")).body;
    const old = await read();

    proc = await startDetectorProcess({
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: DETECTOR_SCHEMA,
      NATS_PREFIX: registry.nats.prefix,
      // Nothing is written (so nothing acked) before the kill.
      INVENTORY_FLUSH_MS: "10000",
      INVENTORY_ACK_WAIT_MS: "2000",
      STALE_GRACE_SECONDS: "0",
      RECONCILE_INTERVAL_MS: "100",
      FINDING_QUIET_SECONDS: "0",
    });
    await call(registry, "PUT", "/v1/namespaces/crashy/layers/production", { v: 2 });
    const head = await read();
    expect(head.revision).toBeGreaterThan(old.revision);
    // The change itself is not what this test loses: the first detector records it before the
    // reports come (were it still unacked at the kill, it would come back only after its own
    // consumer's ack wait, longer than this test waits).
    await eventually(
      async () =>
        (
          await db.pool.query(
            "SELECT revision FROM drift_detector.heads WHERE namespace = 'crashy' AND environment = 'production'",
          )
        ).rows,
      (rows) => rows[0]?.revision === head.revision,
    );
    for (let i = 0; i < INSTANCES; i++) {
      await registry.nats.bus.publish(
        INSTANCE_HEARTBEAT,
        heartbeat({ namespace: "crashy", instanceId: `c-${i}`, revision: old.revision, hash: old.hash }),
      );
    }
    const jsm = await jetstreamManager(registry.nats.nc);
    const names = (await jsm.consumers.list(registry.nats.streams.events).next()).map((c) => c.name);
    const heartbeatDurable = names.find((n) => n.startsWith(INVENTORY_DURABLE) && n.includes("heartbeat"));
    expect(heartbeatDurable).toBeDefined();
    // The process holds every report in memory, unacked.
    await eventually(
      () => jsm.consumers.info(registry.nats.streams.events, heartbeatDurable!),
      (info) => info.num_ack_pending === INSTANCES,
    );
    await proc.kill();
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM drift_detector.instances");
    expect(rows[0].n).toBe(0);

    next = await startDetector(db, registry.nats.prefix, issuer, {
      staleGraceMs: 0,
      inventoryAckWaitMs: 2_000,
    });
    const watch = await watchDriftEvents(registry.nats.bus);
    try {
      const found = await eventually(
        async () =>
          (
            await db.pool.query(
              "SELECT instance_ids[1] AS id, id AS finding FROM drift_detector.findings WHERE kind = 'stale' AND status = 'open'",
            )
          ).rows,
        (r) => r.length === INSTANCES,
        20_000,
      );
      expect(new Set(found.map((r) => r.id)).size).toBe(INSTANCES);
      const detected = await eventually(
        async () => watch.of("nexus.drift.detected"),
        (e) => e.length >= INSTANCES,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(watch.of("nexus.drift.detected")).toHaveLength(INSTANCES);
      expect(new Set(detected.map((e) => e.data.findingId))).toEqual(new Set(found.map((r) => r.finding)));
      expect(detected.every((e) => e.data.expected.revision === head.revision)).toBe(true);
    } finally {
      await watch.stop();
    }
  });
});
