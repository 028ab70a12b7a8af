import { fileURLToPath } from "node:url";
import {
  createLogger,
  createServiceAuth,
  installShutdown,
  openServiceBase,
  parseSealingKeys,
  redactUrl,
  runMain,
  startServiceHeartbeat,
  startTracing,
} from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadBackupEnv } from "./env.js";
import { storageFromEnv } from "./storage/storage-from-env.js";

const PACKAGE_JSON = new URL("../package.json", import.meta.url);
const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

async function main(): Promise<void> {
  const env = loadBackupEnv();
  // First: spans of everything built below (off unless the OTEL_* variables ask for it).
  const tracing = startTracing(env, { service: SERVICE_NAME });
  const logger = createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  logger.info(`tracing: ${tracing.description}`);
  logger.info(
    { database: redactUrl(env.DATABASE_URL), schemas: env.BACKUP_SCHEMAS, storage: env.BACKUP_STORAGE },
    "backup starting",
  );
  // The environment check has already refused keys that do not parse.
  const keys = env.BACKUP_ENCRYPTION_KEY
    ? parseSealingKeys(env.BACKUP_ENCRYPTION_KEY, env.BACKUP_PREVIOUS_KEYS).keys!
    : null;
  if (!keys)
    logger.warn("BACKUP_ENCRYPTION_KEY is not set: bundles are compressed and checksummed, not encrypted");

  const { pool, nc, bus } = await openServiceBase(env, {
    service: SERVICE_NAME,
    migrationsDir: MIGRATIONS_DIR,
    logger,
  });
  const storage = storageFromEnv(env, nc);
  logger.info({ storage: storage.description }, `bundles are stored in ${storage.description}`);
  // OIDC JWTs when configured; API tokens are checked by the registry over NATS (AUTH_TOKEN_KEY).
  const auth = createServiceAuth({ env, logger, bus, redis: null });

  const backup = await buildApp({
    access: { authenticator: auth.authenticator, failures: auth.failures },
    logger,
    pool,
    nc,
    bus,
    storage,
    config: {
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      trustProxy: env.TRUST_PROXY,
      schemas: env.BACKUP_SCHEMAS,
      keys,
      databaseUrl: env.DATABASE_URL,
      schema: env.DATABASE_SCHEMA,
      outboxRelay: true,
      registry: {
        url: env.REGISTRY_URL,
        token: env.BACKUP_REGISTRY_TOKEN ?? null,
        timeoutMs: env.REGISTRY_TIMEOUT_MS,
      },
      schedule: env.SCHEDULE_ENABLED
        ? {
            backupCron: env.BACKUP_CRON,
            incrementalCron: env.INCREMENTAL_CRON,
            verifyCron: env.VERIFY_CRON,
            retention: {
              keepLast: env.RETENTION_KEEP_LAST,
              dailyDays: env.RETENTION_DAILY_DAYS,
              weeklyWeeks: env.RETENTION_WEEKLY_WEEKS,
            },
          }
        : undefined,
    },
  });
  await backup.workers.start();
  await backup.app.listen({ host: env.HOST, port: env.PORT });
  // Service heartbeat for the monitor (nexus.service.heartbeat.*).
  const heartbeat = startServiceHeartbeat({
    service: SERVICE_NAME,
    packageJsonUrl: PACKAGE_JSON,
    instanceId: env.INSTANCE_ID,
    intervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    nc,
    bus,
    pool,
    readiness: backup.readiness,
    durables: [],
    logger,
  });

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: backup.startDraining,
    closers: [
      { name: "heartbeat", close: () => heartbeat.stop() },
      { name: "http", close: () => backup.app.close() },
      { name: "workers", close: () => backup.workers.stop() },
      { name: "auth", close: () => auth.stop() },
      { name: "storage", close: () => storage.close() },
      { name: "nats", close: () => nc.drain() },
      { name: "postgres", close: () => pool.end() },
      { name: "tracing", close: () => tracing.shutdown() },
    ],
  });
}

runMain(SERVICE_NAME, main);
