import { fileURLToPath } from "node:url";
import {
  createFailedAuthLimiterFromEnv,
  createLogger,
  createOidcFromEnv,
  createRedis,
  installShutdown,
  openServiceBase,
  redactUrl,
  runMain,
  startServiceHeartbeat,
  startTracing,
} from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadRegistryEnv } from "./env.js";
import { keyringFromEnv } from "./secrets/secret-env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadRegistryEnv();
  // First: spans of everything built below (off unless the OTEL_* variables ask for it).
  const tracing = startTracing(env, { service: SERVICE_NAME });
  const logger = createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  logger.info(`tracing: ${tracing.description}`);
  logger.info(
    { database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL, redis: redactUrl(env.REDIS_URL) },
    "config-registry starting",
  );

  const { pool, nc, bus } = await openServiceBase(env, {
    service: SERVICE_NAME,
    migrationsDir: MIGRATIONS_DIR,
    logger,
  });
  // Each request's cache read and each write's cache script: concurrent ones share a socket write.
  const redis = createRedis({ url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX, autoPipelining: true });
  redis.on("error", () => undefined); // reported by the cache and /readyz, not once per retry

  const secretKeys = keyringFromEnv(env);
  if (secretKeys) {
    logger.info(
      { masterKeyIds: [...secretKeys.keys.keys()], activeKeyId: secretKeys.activeKeyId },
      "secrets: master keys loaded",
    );
  } else {
    logger.warn(
      "secrets: no master key (SECRETS_MASTER_KEYS), so secrets can be neither stored nor revealed",
    );
  }
  const registry = await buildApp({
    logger,
    pool,
    redis,
    nc,
    bus,
    secretKeys,
    auth: {
      tokenKey: env.AUTH_TOKEN_KEY,
      oidc: createOidcFromEnv(env, logger),
      failures: createFailedAuthLimiterFromEnv(env, redis),
    },
    config: {
      databaseUrl: env.DATABASE_URL,
      schema: env.DATABASE_SCHEMA,
      defaultEnvironments: env.DEFAULT_ENVIRONMENTS,
      cacheTtlSeconds: env.RESOLVED_CACHE_TTL_SECONDS,
      memoryCacheTtlMs: env.RESOLVED_MEMORY_TTL_MS,
      bodyLimit: env.MAX_BODY_BYTES,
      outboxRelay: env.OUTBOX_RELAY_ENABLED,
      protectedEnvironments: env.PROTECTED_ENVIRONMENTS,
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      trustProxy: env.TRUST_PROXY,
      policyCheck: {
        environments: env.POLICY_CHECK_ENVIRONMENTS,
        timeoutMs: env.POLICY_CHECK_TIMEOUT_MS,
        failOpen: env.POLICY_CHECK_FAIL_OPEN,
      },
      git: {
        cacheDir: env.GIT_CACHE_DIR,
        processEnv: { PATH: env.PATH, HOME: env.HOME },
        reconcileSchedule: env.GIT_RECONCILE_SCHEDULE,
        reconcile: env.GIT_RECONCILE_SCHEDULE !== "off",
        webhookMaxBytes: env.GIT_WEBHOOK_MAX_BYTES,
        webhookToleranceSeconds: env.GIT_WEBHOOK_TOLERANCE_SECONDS,
        fetchTimeoutMs: env.GIT_FETCH_TIMEOUT_MS,
        allowAddresses: env.GIT_ALLOW_ADDRESSES,
      },
    },
  });
  await registry.services.tokens.ensureBootstrap(env.NEXUS_BOOTSTRAP_TOKEN);
  await registry.workers.start();
  await registry.app.listen({ host: env.HOST, port: env.PORT });
  // Service heartbeat for the monitor (nexus.service.heartbeat.*).
  const heartbeat = startServiceHeartbeat({
    service: SERVICE_NAME,
    packageJsonUrl: PACKAGE_JSON,
    instanceId: env.INSTANCE_ID,
    intervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    nc,
    bus,
    pool,
    readiness: registry.readiness,
    durables: ["config-registry"],
    logger,
  });

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: registry.startDraining,
    closers: [
      { name: "heartbeat", close: () => heartbeat.stop() },
      { name: "http", close: () => registry.app.close() },
      { name: "workers", close: () => registry.workers.stop() },
      { name: "nats", close: () => nc.drain() },
      { name: "redis", close: async () => void (await redis.quit()) },
      { name: "postgres", close: () => pool.end() },
      { name: "tracing", close: () => tracing.shutdown() },
    ],
  });
}

runMain(SERVICE_NAME, main);
