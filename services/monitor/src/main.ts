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
import { loadMonitorEnv } from "./env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadMonitorEnv();
  // First: spans of everything built below (off unless the OTEL_* variables ask for it).
  const tracing = startTracing(env, { service: SERVICE_NAME });
  const logger = createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  logger.info(`tracing: ${tracing.description}`);
  logger.info({ database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL }, "monitor starting");

  const { pool, nc, bus } = await openServiceBase(env, {
    service: SERVICE_NAME,
    migrationsDir: MIGRATIONS_DIR,
    logger,
  });

  // OIDC JWTs when configured; API tokens are checked by the registry over NATS (AUTH_TOKEN_KEY).
  const auth = createServiceAuth({ env, logger, bus, redis: null });
  const monitor = await buildApp({
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
      expectedServices: env.EXPECTED_SERVICES,
      missedHeartbeats: env.MISSED_HEARTBEATS,
      evaluateIntervalMs: env.EVALUATE_INTERVAL_MS,
      absentGraceMs: Math.max(env.HEARTBEAT_INTERVAL_SECONDS, 5) * 1_000 * env.MISSED_HEARTBEATS,
      bucketMs: env.HEALTH_BUCKET_SECONDS * 1_000,
      retentionMs: env.HEALTH_RETENTION_DAYS * 86_400_000,
      forgetInstanceMs: env.INSTANCE_FORGET_SECONDS * 1_000,
      driftDetectorUrl: env.DRIFT_DETECTOR_URL,
      notifierUrl: env.NOTIFIER_URL,
      registryUrl: env.REGISTRY_URL,
      orchestratorUrl: env.ORCHESTRATOR_URL,
      tokenRefreshMs: env.TOKEN_REFRESH_SECONDS * 1_000,
      certificateRefreshMs: env.CERTIFICATE_REFRESH_SECONDS * 1_000,
      dashboardUrl: env.DASHBOARD_URL,
    },
  });
  await monitor.workers.start();
  await monitor.app.listen({ host: env.HOST, port: env.PORT });
  // The monitor watches itself like any other service.
  const heartbeat = startServiceHeartbeat({
    service: SERVICE_NAME,
    packageJsonUrl: PACKAGE_JSON,
    instanceId: env.INSTANCE_ID,
    intervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    nc,
    bus,
    pool,
    readiness: monitor.readiness,
    durables: ["monitor"],
    logger,
  });
  logger.info(
    { dashboard: env.DASHBOARD_URL ?? `http://${env.HOST}:${env.PORT}/dashboard` },
    "dashboard ready",
  );

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: monitor.startDraining,
    closers: [
      { name: "heartbeat", close: () => heartbeat.stop() },
      { name: "http", close: () => monitor.app.close() },
      { name: "workers", close: () => monitor.workers.stop() },
      { name: "auth", close: () => auth.stop() },
      { name: "nats", close: () => nc.drain() },
      { name: "postgres", close: () => pool.end() },
      { name: "tracing", close: () => tracing.shutdown() },
    ],
  });
}

runMain(SERVICE_NAME, main);
