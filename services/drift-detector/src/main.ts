import { fileURLToPath } from "node:url";
import { createServiceAuth, redactUrl, runMain, startService } from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadDetectorEnv } from "./env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadDetectorEnv();
  await startService({
    service: SERVICE_NAME,
    env,
    migrationsDir: MIGRATIONS_DIR,
    packageJsonUrl: PACKAGE_JSON,
    durables: ["drift"],
    startingWith: { database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL },
    async build({ logger, pool, nc, bus }) {
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
      return { service: detector, closers: [{ name: "auth", close: () => auth.stop() }] };
    },
  });
}

runMain(SERVICE_NAME, main);
