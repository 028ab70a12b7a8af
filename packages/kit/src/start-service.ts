import type { BaseEnv } from "./env.js";
import { startServiceHeartbeat } from "./heartbeat/service-heartbeat.js";
import type { HttpApp } from "./http/app.js";
import { createLogger, type Logger } from "./logger.js";
import { openServiceBase, type ServiceBase, type ServiceBaseEnv } from "./service-base.js";
import { type Closer, installShutdown } from "./shutdown.js";
import { startTracing, type TracingEnv } from "./tracing/tracing.js";

/** What `startService` reads from a service's environment besides its database and NATS. */
export type StartServiceEnv = ServiceBaseEnv &
  TracingEnv &
  Pick<BaseEnv, "LOG_LEVEL" | "HOST" | "PORT" | "SHUTDOWN_GRACE_MS" | "HEARTBEAT_INTERVAL_SECONDS"> & {
    INSTANCE_ID?: string | undefined;
  };

/** What a service's `buildApp` hands back for `startService` to run. */
export type RunnableApp = Pick<HttpApp, "app" | "readiness" | "startDraining"> & {
  workers: { start(): Promise<void>; stop(): Promise<void> };
};

export interface ServiceSpec<E extends StartServiceEnv, A extends RunnableApp> {
  service: string;
  /** The environment, already checked by the service's own schema. */
  env: E;
  migrationsDir: string;
  /** The service's package.json (its version goes into the heartbeat). */
  packageJsonUrl: URL;
  /** Logical durable names of its consumers, reported in the heartbeat. */
  durables: readonly string[];
  /** Where it connects, for the start-up line (URLs are redacted by the caller; no secrets). */
  startingWith: Record<string, unknown>;
  /**
   * The service's own part of start-up, after Postgres (migrated), NATS and the bus are open: its
   * app, and what it opened itself that must close before NATS and Postgres (auth, Redis, storage).
   */
  build(base: ServiceBase & { env: E; logger: Logger }): Promise<{ service: A; closers?: Closer[] }>;
  /** After the HTTP server listens (e.g. to log where the dashboard is). */
  listening?(service: A, logger: Logger): void;
}

/**
 * The start-up every service's `main.ts` shares, in order: tracing (first, so everything built
 * after has spans), the logger, migrations and the connections, the service's own `build`, its
 * workers, the HTTP server, the heartbeat, and the shutdown order (heartbeat, HTTP, workers, the
 * service's own closers, NATS, Postgres, tracing). `main.ts` stays the composition root: what is
 * particular to the service is in its `build`.
 */
export async function startService<E extends StartServiceEnv, A extends RunnableApp>(
  spec: ServiceSpec<E, A>,
): Promise<A> {
  const { env, service: name } = spec;
  const tracing = startTracing(env, { service: name });
  const logger = createLogger({ service: name, level: env.LOG_LEVEL });
  logger.info(`tracing: ${tracing.description}`);
  logger.info(spec.startingWith, `${name} starting`);

  const base = await openServiceBase(env, { service: name, migrationsDir: spec.migrationsDir, logger });
  const { service, closers = [] } = await spec.build({ ...base, env, logger });
  await service.workers.start();
  await service.app.listen({ host: env.HOST, port: env.PORT });
  spec.listening?.(service, logger);
  // Service heartbeat for the monitor (nexus.service.heartbeat.*).
  const heartbeat = startServiceHeartbeat({
    service: name,
    packageJsonUrl: spec.packageJsonUrl,
    instanceId: env.INSTANCE_ID,
    intervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    nc: base.nc,
    bus: base.bus,
    pool: base.pool,
    readiness: service.readiness,
    durables: spec.durables,
    logger,
  });

  installShutdown({
    logger,
    graceMs: env.SHUTDOWN_GRACE_MS,
    startDraining: service.startDraining,
    closers: [
      { name: "heartbeat", close: () => heartbeat.stop() },
      { name: "http", close: () => service.app.close() },
      { name: "workers", close: () => service.workers.stop() },
      ...closers,
      { name: "nats", close: () => base.nc.drain() },
      { name: "postgres", close: () => base.pool.end() },
      { name: "tracing", close: () => tracing.shutdown() },
    ],
  });
  return service;
}
