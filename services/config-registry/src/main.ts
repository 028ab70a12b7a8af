import { fileURLToPath } from "node:url";
import {
  createFailedAuthLimiterFromEnv,
  createOidcFromEnv,
  createRedis,
  redactUrl,
  runMain,
  startService,
} from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadRegistryEnv } from "./env.js";
import { keyringFromEnv } from "./secrets/secret-env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadRegistryEnv();
  await startService({
    service: SERVICE_NAME,
    env,
    migrationsDir: MIGRATIONS_DIR,
    packageJsonUrl: PACKAGE_JSON,
    durables: ["config-registry"],
    startingWith: {
      database: redactUrl(env.DATABASE_URL),
      nats: env.NATS_URL,
      redis: redactUrl(env.REDIS_URL),
    },
    async build({ logger, pool, nc, bus }) {
      // Each request's cache read and each write's cache script: concurrent ones share a socket write.
      const redis = createRedis({
        url: env.REDIS_URL,
        keyPrefix: env.REDIS_KEY_PREFIX,
        autoPipelining: true,
      });
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
      // Before the workers and the HTTP server start: the first request may use it.
      await registry.services.tokens.ensureBootstrap(env.NEXUS_BOOTSTRAP_TOKEN);
      return {
        service: registry,
        closers: [{ name: "redis", close: async () => void (await redis.quit()) }],
      };
    },
  });
}

runMain(SERVICE_NAME, main);
