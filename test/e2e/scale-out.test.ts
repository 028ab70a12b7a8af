import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  createTestDatabase,
  createTestNats,
  createTestRedis,
  type TestDatabase,
  type TestNats,
  type TestRedis,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceNames } from "../deploy/deploy-files.js";
import { type OtlpReceiver, SPAN_KIND, spanAttribute, startOtlpReceiver } from "../support/otlp-receiver.js";
import { registryAuth } from "../support/registry-process.js";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";

/**
 * Two instances of every service (built, as deployed) on one NATS, Postgres and Redis. Config
 * writes go to both registry instances; one instance of each service is killed halfway. Every
 * write is published once (one outbox relay at a time), the drift-detector's durable shares the
 * events between its instances (their names on the consumer spans) and records each one
 * exactly once, and the survivors finish the work.
 */
describe("scale-out: two instances of every service", () => {
  let db: TestDatabase;
  let nats: TestNats;
  let redis: TestRedis;
  let receiver: OtlpReceiver;
  let backupDir: string;
  const instances = new Map<string, ServiceProcess[]>();
  const auth = registryAuth();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: "scale_probe" }),
      createTestNats(),
      createTestRedis(),
    ]);
    backupDir = await mkdtemp(join(tmpdir(), "nexus-scale-backups-"));
    const env = {
      ...auth.env,
      DATABASE_URL: db.url,
      NATS_PREFIX: nats.prefix,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      NOTIFIER_SECRETS_KEY: `n1:${randomBytes(32).toString("base64")}`,
      ORCHESTRATOR_HOOK_KEY: randomBytes(32).toString("base64url"),
      BACKUP_DIR: backupDir,
      HEARTBEAT_INTERVAL_SECONDS: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "200",
    };
    // One service after the other (migrations run once, under their lock), both instances at once.
    for (const name of await serviceNames()) {
      const pair = await Promise.all(
        [1, 2].map((n) =>
          startServiceProcess(
            name,
            `services/${name}/src/main.ts`,
            { ...env, INSTANCE_ID: `${name}-${n}` },
            { built: true },
          ),
        ),
      );
      instances.set(name, pair);
    }
  }, 240_000);
  afterAll(async () => {
    await Promise.all([...instances.values()].flat().map((p) => p.stop()));
    await receiver?.close();
    await db?.drop();
    await nats?.cleanup();
    await redis?.cleanup();
    if (backupDir) await rm(backupDir, { recursive: true, force: true });
  });

  it("publishes and processes every write once, shares the work, and survives losing one of each", async () => {
    const registries = instances.get("config-registry") ?? [];
    expect(registries).toHaveLength(2);
    const send = (url: string, method: string, path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method,
        headers: { ...auth.headers, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
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
    await Promise.all([...instances.values()].map((pair) => pair[0]?.kill()));
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
