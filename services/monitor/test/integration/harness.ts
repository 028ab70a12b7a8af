import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  type Authenticator,
  checkReadiness,
  createBus,
  createLogger,
  type ServiceHeartbeatPublisher,
  startServiceHeartbeat,
} from "@nexus/kit";
import {
  createTestBus,
  createTestDatabase,
  startTestIssuer,
  TEST_NATS_URL,
  type TestBus,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import { buildApp, type MonitorApp, type MonitorConfig } from "../../src/app.js";

export const MONITOR_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
export const MONITOR_SCHEMA = "monitor";

/** Parsed JSON of a response (what JSON.parse gives). */
export type JsonBody = ReturnType<typeof JSON.parse>;

export const testConfig = (db: TestDatabase, over: Partial<MonitorConfig> = {}): MonitorConfig => ({
  databaseUrl: db.url,
  schema: MONITOR_SCHEMA,
  outboxRelay: true,
  expectedServices: [],
  missedHeartbeats: 3,
  evaluateIntervalMs: 100,
  absentGraceMs: 0,
  bucketMs: 60_000,
  retentionMs: 86_400_000,
  forgetInstanceMs: 86_400_000,
  leaseRetryMs: 200,
  alertsPollMs: 200,
  ...over,
});

export interface Harness {
  app: MonitorApp;
  db: TestDatabase;
  nats: TestBus;
  issuer: TestIssuer;
  adminToken: string;
  call(
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: JsonBody; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The monitor on its own database and NATS prefix; OIDC tokens from a local issuer unless told otherwise. */
export async function startMonitor(
  over: Partial<MonitorConfig> = {},
  options: { nats?: TestBus; authenticator?: (issuer: TestIssuer) => Authenticator } = {},
): Promise<Harness> {
  const [db, nats, issuer] = await Promise.all([
    createTestDatabase({ schema: MONITOR_SCHEMA, migrationsDir: MONITOR_MIGRATIONS }),
    options.nats ?? createTestBus({ source: "nexus/monitor" }),
    startTestIssuer(),
  ]);
  const logger = createLogger({ service: "monitor-test", level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const bus = createBus({ nc: nats.nc, prefix: nats.prefix, source: "nexus/monitor", logger });
  const app = await buildApp({
    logger,
    pool: db.pool,
    nc: nats.nc,
    bus,
    access: {
      authenticator: options.authenticator ? options.authenticator(issuer) : issuer.authenticator(logger),
    },
    config: testConfig(db, over),
  });
  await app.workers.start();
  await app.app.ready();
  const adminToken = await issuer.token(["admin"], { subject: "alice" });
  return {
    app,
    db,
    nats,
    issuer,
    adminToken,
    async call(method, url, body, headers = {}) {
      const res = await app.app.inject({
        method,
        url,
        headers: {
          ...(headers.authorization === "" ? {} : { authorization: `Bearer ${adminToken}` }),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...Object.fromEntries(Object.entries(headers).filter(([k]) => k !== "authorization" || headers[k])),
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
    },
    async close() {
      await app.app.close();
      await app.workers.stop();
      await issuer.close();
      if (!options.nats) await nats.cleanup();
      await db.drop();
    },
  };
}

/**
 * A Nexus service instance as the monitor sees it: the kit's heartbeat publisher on its own NATS
 * connection, reporting a real Postgres check. `crash()` closes the connection without the
 * goodbye heartbeat, as a killed process would.
 */
export async function startBeating(
  h: Pick<Harness, "nats" | "db">,
  service: string,
  instanceId: string,
  intervalSeconds: number,
): Promise<{
  publisher: ServiceHeartbeatPublisher;
  nc: NatsConnection;
  crash(): Promise<void>;
  stop(): Promise<void>;
}> {
  const nc = await connect({
    servers: TEST_NATS_URL,
    name: `${service}-heartbeat-test`,
    noAsyncTraces: true,
  });
  const logger = createLogger({ service, level: "silent" });
  const bus = createBus({ nc, prefix: h.nats.prefix, source: `nexus/${service}`, logger });
  const checks = [
    { name: "postgres", critical: true, check: async () => void (await h.db.pool.query("SELECT 1")) },
  ];
  const publisher = startServiceHeartbeat({
    service,
    packageJsonUrl: new URL("../../package.json", import.meta.url),
    instanceId,
    intervalSeconds,
    nc,
    bus,
    pool: h.db.pool,
    readiness: () => checkReadiness(checks, false),
    durables: [service],
    logger,
  });
  return {
    publisher,
    nc,
    async crash() {
      await nc.close();
      await publisher.stop(); // stops the timer; the connection is gone, so nothing is sent
    },
    async stop() {
      await publisher.stop();
      await nc.close();
    },
  };
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
    await sleep(25);
    last = await fn();
  }
  return last;
}
