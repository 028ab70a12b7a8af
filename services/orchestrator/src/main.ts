import { fileURLToPath } from "node:url";
import { createServiceAuth, redactUrl, runMain, startService } from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadOrchestratorEnv } from "./env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadOrchestratorEnv();
  await startService({
    service: SERVICE_NAME,
    env,
    migrationsDir: MIGRATIONS_DIR,
    packageJsonUrl: PACKAGE_JSON,
    durables: ["orchestrator-triggers", "orchestrator-change-requests", "orchestrator-git-pushes"],
    startingWith: { database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL },
    async build({ logger, pool, nc, bus }) {
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
      return { service: orchestrator, closers: [{ name: "auth", close: () => auth.stop() }] };
    },
  });
}

runMain(SERVICE_NAME, main);
