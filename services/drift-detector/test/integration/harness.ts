import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { CloudEvent, EventData, EventType, InstanceHeartbeat } from "@nexus/contracts";
import {
  type Bus,
  combineAuthenticators,
  createBus,
  createLogger,
  createRemoteTokenAuthenticator,
} from "@nexus/kit";
import {
  createTestDatabase,
  startTestIssuer,
  TEST_NATS_URL,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import {
  type Harness as RegistryHarness,
  startRegistry,
} from "../../../config-registry/test/integration/harness.js";
import { buildApp, type DetectorApp, type DetectorConfig } from "../../src/app.js";

/** Parsed JSON of a response or event (what JSON.parse gives). */
export type JsonBody = ReturnType<typeof JSON.parse>;

export const DETECTOR_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
export const DETECTOR_SCHEMA = "drift_detector";

export const testConfig = (db: TestDatabase, over: Partial<DetectorConfig> = {}): DetectorConfig => ({
  databaseUrl: db.url,
  schema: DETECTOR_SCHEMA,
  outboxRelay: true,
  staleGraceMs: 300,
  staleGraceByEnvironment: {},
  goneAfterMs: 60_000,
  deleteAfterMs: 3_600_000,
  flushIntervalMs: 50,
  reconcileIntervalMs: 100,
  quietMs: 0,
  policyScanCron: "0 0 0 1 1 *",
  remediationMaxAttempts: 2,
  remediationRetryMs: 400,
  registryTimeoutMs: 2_000,
  inventoryAckWaitMs: 2_000,
  leaseRetryMs: 200,
  ...over,
});

export interface Detector {
  app: DetectorApp;
  nc: NatsConnection;
  bus: Bus;
  /** Stop like SIGTERM: flush, ack, release the lease. */
  stop(): Promise<void>;
  /**
   * Die like SIGKILL: the NATS connection goes without acking what is batched and the lease
   * session is cut by the server; nothing is flushed.
   */
  crash(): Promise<void>;
}

/** One detector process: its own NATS connection (same prefix), on the given database. */
export async function startDetector(
  db: TestDatabase,
  prefix: string,
  issuer: TestIssuer,
  over: Partial<DetectorConfig> = {},
  /** Also accept the registry's API tokens (checked with the registry over NATS). */
  registryTokens?: { bus: Bus; key: Buffer },
): Promise<Detector> {
  const nc = await connect({ servers: TEST_NATS_URL, name: "drift-detector-test", noAsyncTraces: true });
  const logger = createLogger({
    service: "drift-detector-test",
    level: process.env.TEST_LOG_LEVEL ?? "silent",
  });
  const bus = createBus({ nc, prefix, source: "nexus/drift-detector", logger });
  const app = await buildApp({
    logger,
    pool: db.pool,
    nc,
    bus,
    access: {
      authenticator: registryTokens
        ? combineAuthenticators({
            apiTokens: createRemoteTokenAuthenticator(registryTokens),
            oidc: issuer.authenticator(logger),
          })
        : issuer.authenticator(logger),
    },
    config: testConfig(db, over),
  });
  await app.workers.start();
  await app.app.ready();
  let closed = false;
  return {
    app,
    nc,
    bus,
    async stop() {
      if (closed) return;
      closed = true;
      await app.app.close();
      await app.workers.stop();
      await nc.close();
    },
    async crash() {
      if (closed) return;
      closed = true;
      await nc.close();
      // The server ends the dead process's sessions, which frees its leases.
      await db.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'nexus-lease:%'",
      );
      await app.workers.stop().catch(() => undefined);
      await app.app.close().catch(() => undefined);
    },
  };
}

export interface World {
  registry: RegistryHarness;
  db: TestDatabase;
  issuer: TestIssuer;
  detector: Detector;
  adminToken: string;
  /** Request to the detector's HTTP API, as admin unless a token is given. */
  call(
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: JsonBody }>;
  /** Publish as a consuming instance would (JetStream, through the registry's bus). */
  publish<T extends EventType>(type: T, data: EventData<T>, time?: Date): Promise<void>;
  close(): Promise<void>;
}

/** The registry and one detector on the same NATS prefix, each on its own database. */
export async function startWorld(
  over: Partial<DetectorConfig> = {},
  registryOptions: Parameters<typeof startRegistry>[0] = {},
): Promise<World> {
  const [registry, db, issuer] = await Promise.all([
    startRegistry(registryOptions),
    createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS }),
    startTestIssuer(),
  ]);
  const world: World = {
    registry,
    db,
    issuer,
    detector: await startDetector(db, registry.nats.prefix, issuer, over),
    adminToken: await issuer.token(["admin"], { subject: "alice" }),
    async call(method, url, body, token) {
      const res = await world.detector.app.app.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${token ?? world.adminToken}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: res.statusCode, body: res.body ? res.json() : undefined };
    },
    async publish(type, data, time) {
      const envelope = registry.nats.bus.envelope(type, data) as CloudEvent<unknown>;
      if (time) envelope.time = time.toISOString();
      await registry.nats.bus.publishEnvelope(registry.nats.bus.subjectFor(type, data), envelope);
    },
    async close() {
      await world.detector.stop().catch(() => undefined);
      await registry.close();
      await issuer.close();
      await db.drop();
    },
  };
  return world;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(
  fn: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!check(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await sleep(50);
    last = await fn();
  }
  return last;
}

export const heartbeat = (
  over: Partial<InstanceHeartbeat> & Pick<InstanceHeartbeat, "instanceId" | "revision" | "hash">,
): InstanceHeartbeat => ({
  schemaVersion: 1,
  service: "shop-api",
  namespace: "shop",
  environment: "production",
  status: "live",
  startedAt: new Date().toISOString(),
  sdkVersion: "test",
  intervalSeconds: 10,
  ...over,
});

/** Every drift-side event the detector publishes, read back from JetStream by a durable of its own. */
export async function watchDriftEvents(bus: Bus) {
  const received: CloudEvent<JsonBody>[] = [];
  const consumption = await bus.consume(
    [
      "nexus.drift.detected",
      "nexus.drift.resolved",
      "nexus.drift.escalated",
      "nexus.drift.remediation-requested",
      "nexus.policy.violated",
    ],
    { durable: `watch-${Math.random().toString(36).slice(2, 8)}`, concurrency: 1 },
    async (event) => {
      received.push(event as CloudEvent<JsonBody>);
    },
  );
  return {
    received,
    of: (type: string, pred: (d: JsonBody) => boolean = () => true) =>
      received.filter((e) => e.type === type && pred(e.data)),
    stop: () => consumption.stop(),
  };
}
