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
import { loadOrchestratorEnv } from "./env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadOrchestratorEnv();
  // First: spans of everything built below (off unless the OTEL_* variables ask for it).
  const tracing = startTracing(env, { service: SERVICE_NAME });
  const logger = createLogger({ service: SERVICE_NAME, level: env.LOG_LEVEL });
  logger.info(`tracing: ${tracing.description}`);
  logger.info({ database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL }, "orchestrator starting");

  const { pool, nc, bus } = await openServiceBase(env, {
    service: SERVICE_NAME,
    migrationsDir: MIGRATIONS_DIR,
    logger,
  });

  // No Redis here: the failed-login limiter counts in memory.
  const auth = createServiceAuth({ env, logger, bus, redis: null });
  const orchestrator = await buildApp({
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
      registryUrl: env.REGISTRY_URL,
      driftDetectorUrl: env.DRIFT_DETECTOR_URL,
      monitorUrl: env.MONITOR_URL,
      backupUrl: env.BACKUP_URL,
      apiToken: env.ORCHESTRATOR_API_TOKEN,
      backupToken: env.ORCHESTRATOR_BACKUP_TOKEN,
      hookSigningKey: env.ORCHESTRATOR_HOOK_KEY,
      runLeaseMs: env.RUN_LEASE_SECONDS * 1_000,
      runPollMs: env.RUN_POLL_MS,
      dependencyTimeoutMs: env.DEPENDENCY_TIMEOUT_MS,
      watchPollMs: env.WATCH_POLL_MS,
      commandPath: env.RUN_COMMAND_PATH,
      allowedCommands: env.RUN_ALLOWED_COMMANDS,
      allowedHookUrls: env.HOOK_ALLOWED_URLS,
    },
  });
  await orchestrator.workers.start();
  await orchestrator.app.listen({ host: env.HOST, port: env.PORT });
  // Service heartbeat for the monitor (nexus.service.heartbeat.*).
  const heartbeat = startServiceHeartbeat({
    service: SERVICE_NAME,
    packageJsonUrl: PACKAGE_JSON,
    instanceId: env.INSTANCE_ID,
    intervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    nc,
    bus,
    pool,
    readiness: orchestrator.readiness,
    durables: ["orchestrator-triggers", "orchestrator-change-requests", "orchestrator-git-pushes"],
    logger,
  });

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: orchestrator.startDraining,
    closers: [
      { name: "heartbeat", close: () => heartbeat.stop() },
      { name: "http", close: () => orchestrator.app.close() },
      { name: "workers", close: () => orchestrator.workers.stop() },
      { name: "auth", close: () => auth.stop() },
      { name: "nats", close: () => nc.drain() },
      { name: "postgres", close: () => pool.end() },
      { name: "tracing", close: () => tracing.shutdown() },
    ],
  });
}

runMain(SERVICE_NAME, main);
