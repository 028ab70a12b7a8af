import { CONFIG_CHANGED, type ConfigChanged, type ServiceHeartbeat } from "@nexus/contracts";
import {
  collectEvents,
  createTestBus,
  createTestDatabase,
  type TestBus,
  type TestDatabase,
} from "@nexus/test-fixtures";
import Fastify from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServiceHeartbeat } from "../../src/heartbeat/index.js";
import { checkReadiness } from "../../src/http/health.js";
import { registerMetrics } from "../../src/http/metrics.js";
import { createLogger } from "../../src/logger.js";
import { enqueueEvent } from "../../src/outbox/index.js";

const logger = createLogger({ service: "heartbeat-test", level: "silent" });
const changed: ConfigChanged = {
  schemaVersion: 1,
  namespace: "payments-api",
  environment: "production",
  revision: 1,
  previousRevision: null,
  hash: "a".repeat(64),
  previousHash: null,
  layer: "base",
  changedPaths: [],
  trigger: "write",
  actor: "alice",
  source: "api",
};

/** The heartbeat reports what the service's outbox, durables and dead letters hold, read from the real servers. */
describe("service heartbeat", () => {
  let db: TestDatabase;
  let t: TestBus;
  beforeAll(async () => {
    [db, t] = await Promise.all([createTestDatabase({ schema: "kit_heartbeat" }), createTestBus()]);
  });
  afterAll(async () => {
    await t?.cleanup();
    await db?.drop();
  });

  it("reports readiness per dependency, the outbox backlog, its durables' backlog and its dead letters, then says goodbye", async () => {
    // Two unpublished outbox rows, and three events waiting for a durable of "svc" (none for "other").
    await enqueueEvent(db.pool, t.bus, CONFIG_CHANGED, changed);
    await enqueueEvent(db.pool, t.bus, CONFIG_CHANGED, { ...changed, revision: 2 });
    const durable = await t.bus.consume(CONFIG_CHANGED, { durable: "svc-heads" }, async () => {
      throw new Error("never handled here");
    });
    await durable.stop();
    for (const revision of [3, 4, 5]) await t.bus.publish(CONFIG_CHANGED, { ...changed, revision });
    // One dead letter of "svc" and one of another service's durable.
    await t.bus.publishSerialized(`${t.prefix}.dlq.svc-heads`, "dl-1", "{}");
    await t.bus.publishSerialized(`${t.prefix}.dlq.other`, "dl-2", "{}");

    const subject = `${t.prefix}.service.heartbeat.svc.i-1`;
    const beats = collectEvents<ServiceHeartbeat>(t.nc, subject, 2, 5_000);
    const hb = startServiceHeartbeat({
      service: "svc",
      packageJsonUrl: new URL("../../package.json", import.meta.url),
      instanceId: "i-1",
      intervalSeconds: 60,
      nc: t.nc,
      bus: t.bus,
      pool: db.pool,
      readiness: () =>
        checkReadiness(
          [
            { name: "postgres", critical: true, check: async () => void (await db.pool.query("SELECT 1")) },
            {
              name: "redis",
              critical: false,
              check: async () => {
                throw new Error("connection refused");
              },
            },
          ],
          false,
        ),
      durables: ["svc"],
      logger,
    });
    await new Promise((r) => setTimeout(r, 300));
    await hb.stop();
    const [first, last] = (await beats).map((m) => m.event);
    expect(first).toMatchObject({
      service: "svc",
      instanceId: "i-1",
      version: "0.1.0",
      status: "degraded",
      intervalSeconds: 60,
      gauges: { outboxBacklog: 2, consumerPending: 3, deadLetters: 1 },
    });
    expect(first?.dependencies).toEqual([
      { name: "postgres", critical: true, status: "up", latencyMs: expect.any(Number) },
      {
        name: "redis",
        critical: false,
        status: "down",
        latencyMs: expect.any(Number),
        error: "connection refused",
      },
    ]);
    expect(last?.status).toBe("stopping");
  });

  it("carries the process's HTTP traffic since the previous beat, read from the kit's RED histogram", async () => {
    const api = Fastify();
    registerMetrics(api, new Registry());
    api.get("/ok", async () => ({ ok: true }));
    api.get("/broken", async (_request, reply) => reply.code(500).send({ error: "broken" }));
    await api.ready();
    const subject = `${t.prefix}.service.heartbeat.web.w-1`;
    const beats = collectEvents<ServiceHeartbeat>(t.nc, subject, 4, 5_000);
    const hb = startServiceHeartbeat({
      service: "web",
      packageJsonUrl: new URL("../../package.json", import.meta.url),
      instanceId: "w-1",
      intervalSeconds: 60,
      nc: t.nc,
      bus: t.bus,
      pool: null,
      readiness: () => checkReadiness([], false),
      durables: [],
      logger,
    });
    await hb.beat(); // settles the first reading (the immediate beat may be in flight)
    for (const url of ["/ok", "/ok", "/ok", "/broken"]) await api.inject({ method: "GET", url });
    await hb.beat();
    await hb.stop();
    await api.close();
    const bodies = (await beats).map((m) => m.event);
    expect(bodies[2]?.http).toEqual({ requests: 4, errors5xx: 1, p99Ms: expect.any(Number) });
    expect(bodies[2]?.http?.p99Ms).toBeGreaterThan(0);
    expect(bodies[3]?.http).toEqual({ requests: 0, errors5xx: 0, p99Ms: null });
  });
});
