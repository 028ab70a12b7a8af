import { fileURLToPath } from "node:url";
import { createServiceAuth, parseSealingKeys, redactUrl, runMain, startService } from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadBackupEnv } from "./env.js";
import { storageFromEnv } from "./storage/storage-from-env.js";

const PACKAGE_JSON = new URL("../package.json", import.meta.url);
const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

async function main(): Promise<void> {
  const env = loadBackupEnv();
  // The environment check has already refused keys that do not parse.
  const keys = env.BACKUP_ENCRYPTION_KEY
    ? parseSealingKeys(env.BACKUP_ENCRYPTION_KEY, env.BACKUP_PREVIOUS_KEYS).keys!
    : null;
  await startService({
    service: SERVICE_NAME,
    env,
    migrationsDir: MIGRATIONS_DIR,
    packageJsonUrl: PACKAGE_JSON,
    durables: [],
    startingWith: {
      database: redactUrl(env.DATABASE_URL),
      schemas: env.BACKUP_SCHEMAS,
      storage: env.BACKUP_STORAGE,
    },
    async build({ logger, pool, nc, bus }) {
      if (!keys)
        logger.warn(
          "BACKUP_ENCRYPTION_KEY is not set: bundles are compressed and checksummed, not encrypted",
        );
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
      return {
        service: backup,
        closers: [
          { name: "auth", close: () => auth.stop() },
          { name: "storage", close: () => storage.close() },
        ],
      };
    },
  });
}

runMain(SERVICE_NAME, main);
