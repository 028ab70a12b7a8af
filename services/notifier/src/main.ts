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
import { loadNotifierEnv } from "./env.js";
import { DAY_MS } from "./retention/retention-fns.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadNotifierEnv();
  // First: spans of everything built below (off unless the OTEL_* variables ask for it).
  const tracing = startTracing(env, { service: SERVICE_NAME });
  const logger = createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  logger.info(`tracing: ${tracing.description}`);
  logger.info({ database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL }, "notifier starting");
  if (!env.ALERTMANAGER_INTAKE_TOKEN)
    logger.info("ALERTMANAGER_INTAKE_TOKEN is not set: the Alertmanager intake answers 503");

  // The environment check has already refused keys that do not parse.
  const secretsKeys = parseSealingKeys(env.NOTIFIER_SECRETS_KEY, env.NOTIFIER_SECRETS_PREVIOUS_KEYS).keys!;
  const { pool, nc, bus } = await openServiceBase(env, {
    service: SERVICE_NAME,
    migrationsDir: MIGRATIONS_DIR,
    logger,
  });

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
  await notifier.workers.start();
  await notifier.app.listen({ host: env.HOST, port: env.PORT });
  // Service heartbeat for the monitor (nexus.service.heartbeat.*).
  const heartbeat = startServiceHeartbeat({
    service: SERVICE_NAME,
    packageJsonUrl: PACKAGE_JSON,
    instanceId: env.INSTANCE_ID,
    intervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    nc,
    bus,
    pool,
    readiness: notifier.readiness,
    durables: ["notifier"],
    logger,
  });

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: notifier.startDraining,
    closers: [
      { name: "heartbeat", close: () => heartbeat.stop() },
      { name: "http", close: () => notifier.app.close() },
      { name: "workers", close: () => notifier.workers.stop() },
      { name: "auth", close: () => auth.stop() },
      { name: "nats", close: () => nc.drain() },
      { name: "postgres", close: () => pool.end() },
      { name: "tracing", close: () => tracing.shutdown() },
    ],
  });
}

runMain(SERVICE_NAME, main);
