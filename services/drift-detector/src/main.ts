import { fileURLToPath } from "node:url";
import {
  connectNats,
  createBus,
  createLogger,
  createPool,
  createServiceAuth,
  installShutdown,
  migrate,
  redactUrl,
} from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadDetectorEnv } from "./env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

async function main(): Promise<void> {
  const env = loadDetectorEnv();
  const logger = createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  logger.info({ database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL }, "drift-detector starting");

  await migrate({ databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, dir: MIGRATIONS_DIR, logger });
  const pool = createPool({
    connectionString: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    max: env.DATABASE_POOL_SIZE,
    applicationName: SERVICE_NAME,
    onError: (err) => logger.warn({ err }, "an idle Postgres connection failed; it will be replaced"),
  });
  const nc = await connectNats({
    url: env.NATS_URL,
    user: env.NATS_USER,
    password: env.NATS_PASSWORD,
    credsFile: env.NATS_CREDS_FILE,
    nkeySeed: env.NATS_NKEY_SEED,
    name: SERVICE_NAME,
    logger,
  });
  const bus = createBus({ nc, prefix: env.NATS_PREFIX, source: `nexus/${SERVICE_NAME}`, logger });

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
      databaseUrl: env.DATABASE_URL,
      schema: env.DATABASE_SCHEMA,
      outboxRelay: env.OUTBOX_RELAY_ENABLED,
      staleGraceMs: env.STALE_GRACE_SECONDS * 1_000,
      staleGraceByEnvironment: env.STALE_GRACE_BY_ENVIRONMENT,
      goneAfterMs: env.INSTANCE_GONE_AFTER_SECONDS * 1_000,
      deleteAfterMs: env.INSTANCE_DELETE_AFTER_SECONDS * 1_000,
      flushIntervalMs: env.INVENTORY_FLUSH_MS,
      inventoryAckWaitMs: env.INVENTORY_ACK_WAIT_MS,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
      quietMs: env.FINDING_QUIET_SECONDS * 1_000,
      policyScanCron: env.POLICY_SCAN_CRON,
      remediationMaxAttempts: env.REMEDIATION_MAX_ATTEMPTS,
      remediationRetryMs: env.REMEDIATION_RETRY_SECONDS * 1_000,
      registryTimeoutMs: env.REGISTRY_TIMEOUT_MS,
    },
  });
  await detector.workers.start();
  await detector.app.listen({ host: env.HOST, port: env.PORT });

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: detector.startDraining,
    closers: [
      { name: "http", close: () => detector.app.close() },
      { name: "workers", close: () => detector.workers.stop() },
      { name: "auth", close: () => auth.stop() },
      { name: "nats", close: () => nc.drain() },
      { name: "postgres", close: () => pool.end() },
    ],
  });
}

main().catch((err) => {
  process.stderr.write(`drift-detector failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
