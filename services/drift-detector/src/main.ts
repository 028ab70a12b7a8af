import { fileURLToPath } from "node:url";
import {
  createLogger,
  createServiceAuth,
  installShutdown,
  openServiceBase,
  redactUrl,
  runMain,
  startServiceHeartbeat,
  startTracing,
} from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadDetectorEnv } from "./env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadDetectorEnv();
  // First: spans of everything built below (off unless the OTEL_* variables ask for it).
  const tracing = startTracing(env, { service: SERVICE_NAME });
  const logger = createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  logger.info(`tracing: ${tracing.description}`);
  logger.info({ database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL }, "drift-detector starting");

  const { pool, nc, bus } = await openServiceBase(env, {
    service: SERVICE_NAME,
    migrationsDir: MIGRATIONS_DIR,
    logger,
  });

  // No Redis here: the failed-login limiter counts in memory.
  const auth = createServiceAuth({ env, logger, bus, redis: null });
  const detector = await buildApp({
    logger,
    pool,
    nc,
    bus,
    access: { authenticator: auth.authenticator, failures: auth.failures },
    config: {
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      trustProxy: env.TRUST_PROXY,
      databaseUrl: env.DATABASE_URL,
      schema: env.DATABASE_SCHEMA,
      outboxRelay: env.OUTBOX_RELAY_ENABLED,
      staleGraceMs: env.STALE_GRACE_SECONDS * 1_000,
      staleGraceByEnvironment: env.STALE_GRACE_BY_ENVIRONMENT,
      goneAfterMs: env.INSTANCE_GONE_AFTER_SECONDS * 1_000,
      deleteAfterMs: env.INSTANCE_DELETE_AFTER_SECONDS * 1_000,
      flushIntervalMs: env.INVENTORY_FLUSH_MS,
      inventoryAckWaitMs: env.INVENTORY_ACK_WAIT_MS,
      changesAckWaitMs: env.CHANGES_ACK_WAIT_MS,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
      quietMs: env.FINDING_QUIET_SECONDS * 1_000,
      policyScanCron: env.POLICY_SCAN_CRON,
      retentionMaxAgeMs: env.DRIFT_RETENTION_DAYS * 86_400_000,
      retentionCron: env.DRIFT_RETENTION_CRON,
      remediationMaxAttempts: env.REMEDIATION_MAX_ATTEMPTS,
      remediationRetryMs: env.REMEDIATION_RETRY_SECONDS * 1_000,
      registryTimeoutMs: env.REGISTRY_TIMEOUT_MS,
    },
  });
  await detector.workers.start();
  await detector.app.listen({ host: env.HOST, port: env.PORT });
  // Service heartbeat for the monitor (nexus.service.heartbeat.*).
  const heartbeat = startServiceHeartbeat({
    service: SERVICE_NAME,
    packageJsonUrl: PACKAGE_JSON,
    instanceId: env.INSTANCE_ID,
    intervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    nc,
    bus,
    pool,
    readiness: detector.readiness,
    durables: ["drift"],
    logger,
  });

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: detector.startDraining,
    closers: [
      { name: "heartbeat", close: () => heartbeat.stop() },
      { name: "http", close: () => detector.app.close() },
      { name: "workers", close: () => detector.workers.stop() },
      { name: "auth", close: () => auth.stop() },
      { name: "nats", close: () => nc.drain() },
      { name: "postgres", close: () => pool.end() },
      { name: "tracing", close: () => tracing.shutdown() },
    ],
  });
}

runMain(SERVICE_NAME, main);
