import { fileURLToPath } from "node:url";
import { createServiceAuth, parseSealingKeys, redactUrl, runMain, startService } from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadNotifierEnv } from "./env.js";
import { DAY_MS } from "./retention/retention-fns.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadNotifierEnv();
  // The environment check has already refused keys that do not parse.
  const secretsKeys = parseSealingKeys(env.NOTIFIER_SECRETS_KEY, env.NOTIFIER_SECRETS_PREVIOUS_KEYS).keys!;
  await startService({
    service: SERVICE_NAME,
    env,
    migrationsDir: MIGRATIONS_DIR,
    packageJsonUrl: PACKAGE_JSON,
    durables: ["notifier"],
    startingWith: { database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL },
    async build({ logger, pool, nc, bus }) {
      if (!env.ALERTMANAGER_INTAKE_TOKEN)
        logger.info("ALERTMANAGER_INTAKE_TOKEN is not set: the Alertmanager intake answers 503");
      // OIDC JWTs when configured; API tokens are checked by the registry over NATS (AUTH_TOKEN_KEY).
      const auth = createServiceAuth({ env, logger, bus, redis: null });
      const notifier = await buildApp({
        access: { authenticator: auth.authenticator, failures: auth.failures },
        logger,
        pool,
        nc,
        bus,
        config: {
          rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
          trustProxy: env.TRUST_PROXY,
          alertmanagerToken: env.ALERTMANAGER_INTAKE_TOKEN,
          links: { dashboardUrl: env.DASHBOARD_URL, registryUrl: env.REGISTRY_PUBLIC_URL },
          outbound: {
            allowHttp: env.OUTBOUND_ALLOW_HTTP,
            allowAddresses: env.OUTBOUND_ALLOW_ADDRESSES,
            timeoutMs: env.OUTBOUND_TIMEOUT_MS,
            maxResponseBytes: env.OUTBOUND_MAX_RESPONSE_BYTES,
          },
          delivery: {
            maxAttempts: env.DELIVERY_MAX_ATTEMPTS,
            backoffBaseMs: env.DELIVERY_BACKOFF_BASE_MS,
            backoffMaxMs: env.DELIVERY_BACKOFF_MAX_MS,
            leaseMs: env.DELIVERY_LEASE_MS,
          },
          slackIntervalMs: env.SLACK_INTERVAL_MS,
          workerPollMs: env.WORKER_POLL_MS,
          consumeEvents: env.CONSUME_EVENTS,
          consumerConcurrency: env.CONSUMER_CONCURRENCY,
          bodyLimit: env.MAX_BODY_BYTES,
          secretsKeys,
          retention: {
            maxAgeMs: env.RETENTION_DAYS * DAY_MS,
            deadLetterMaxAgeMs: env.DEAD_LETTER_RETENTION_DAYS * DAY_MS,
            cron: env.RETENTION_CRON,
            batchSize: env.RETENTION_BATCH_SIZE,
            databaseUrl: env.DATABASE_URL,
            schema: env.DATABASE_SCHEMA,
          },
        },
      });
      return { service: notifier, closers: [{ name: "auth", close: () => auth.stop() }] };
    },
  });
}

runMain(SERVICE_NAME, main);
