import { fileURLToPath } from "node:url";
import { createServiceAuth, redactUrl, runMain, startService } from "@nexus/kit";
import { buildApp, SERVICE_NAME } from "./app.js";
import { loadMonitorEnv } from "./env.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const PACKAGE_JSON = new URL("../package.json", import.meta.url);

async function main(): Promise<void> {
  const env = loadMonitorEnv();
  await startService({
    service: SERVICE_NAME,
    env,
    migrationsDir: MIGRATIONS_DIR,
    packageJsonUrl: PACKAGE_JSON,
    // The monitor watches itself like any other service.
    durables: ["monitor"],
    startingWith: { database: redactUrl(env.DATABASE_URL), nats: env.NATS_URL },
    async build({ logger, pool, nc, bus }) {
      // OIDC JWTs when configured; API tokens are checked by the registry over NATS (AUTH_TOKEN_KEY).
      const auth = createServiceAuth({ env, logger, bus, redis: null });
      const monitor = await buildApp({
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
          expectedServices: env.EXPECTED_SERVICES,
          missedHeartbeats: env.MISSED_HEARTBEATS,
          evaluateIntervalMs: env.EVALUATE_INTERVAL_MS,
          absentGraceMs: Math.max(env.HEARTBEAT_INTERVAL_SECONDS, 5) * 1_000 * env.MISSED_HEARTBEATS,
          bucketMs: env.HEALTH_BUCKET_SECONDS * 1_000,
          retentionMs: env.HEALTH_RETENTION_DAYS * 86_400_000,
          forgetInstanceMs: env.INSTANCE_FORGET_SECONDS * 1_000,
          driftDetectorUrl: env.DRIFT_DETECTOR_URL,
          notifierUrl: env.NOTIFIER_URL,
          registryUrl: env.REGISTRY_URL,
          orchestratorUrl: env.ORCHESTRATOR_URL,
          tokenRefreshMs: env.TOKEN_REFRESH_SECONDS * 1_000,
          certificateRefreshMs: env.CERTIFICATE_REFRESH_SECONDS * 1_000,
          dashboardUrl: env.DASHBOARD_URL,
        },
      });
      return { service: monitor, closers: [{ name: "auth", close: () => auth.stop() }] };
    },
    listening(_monitor, logger) {
      logger.info(
        { dashboard: env.DASHBOARD_URL ?? `http://${env.HOST}:${env.PORT}/dashboard` },
        "dashboard ready",
      );
    },
  });
}

runMain(SERVICE_NAME, main);
