import type pg from "pg";
import { createBus } from "./bus/bus.js";
import type { Bus } from "./bus/types.js";
import { isConnectionFailure } from "./db/connection-errors.js";
import { migrate } from "./db/migrate.js";
import { createPool } from "./db/pool.js";
import type { BaseEnv } from "./env.js";
import { type Logger, redactUrl } from "./logger.js";
import { connectNats, type NatsConnection } from "./nats.js";

/** What every service's environment has for its database and NATS connection. */
export type ServiceBaseEnv = Pick<
  BaseEnv,
  | "DATABASE_URL"
  | "DATABASE_POOL_SIZE"
  | "NATS_URL"
  | "NATS_USER"
  | "NATS_PASSWORD"
  | "NATS_CREDS_FILE"
  | "NATS_NKEY_SEED"
  | "NATS_PREFIX"
> & { DATABASE_SCHEMA: string } & Partial<Pick<BaseEnv, "NATS_STREAM_REPLICAS" | "EVENT_BATCH_WAIT_MS">>;

export interface ServiceBase {
  pool: pg.Pool;
  nc: NatsConnection;
  bus: Bus;
}

/**
 * The part of start-up every service's `main.ts` shares: its migrations (kit tables first, under
 * the migration lock), the Postgres pool on its schema, the NATS connection and the typed bus.
 */
export async function openServiceBase(
  env: ServiceBaseEnv,
  options: { service: string; migrationsDir: string; logger: Logger },
): Promise<ServiceBase> {
  const { service, logger } = options;
  // Started before Postgres (a host reboot, `docker compose up`, any order): wait for it.
  await untilReachable("Postgres", redactUrl(env.DATABASE_URL), logger, () =>
    migrate({
      databaseUrl: env.DATABASE_URL,
      schema: env.DATABASE_SCHEMA,
      dir: options.migrationsDir,
      logger,
    }),
  );
  const pool = createPool({
    connectionString: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    max: env.DATABASE_POOL_SIZE,
    applicationName: service,
    onError: (err) => logger.warn({ err }, "an idle Postgres connection failed; it will be replaced"),
  });
  const nc = await connectNats({
    url: env.NATS_URL,
    user: env.NATS_USER,
    password: env.NATS_PASSWORD,
    credsFile: env.NATS_CREDS_FILE,
    nkeySeed: env.NATS_NKEY_SEED,
    name: service,
    logger,
  });
  const bus = createBus({
    nc,
    prefix: env.NATS_PREFIX,
    source: `nexus/${service}`,
    logger,
    streamReplicas: env.NATS_STREAM_REPLICAS,
    batchWaitMs: env.EVENT_BATCH_WAIT_MS,
  });
  return { pool, nc, bus };
}

/** Run a service's `main`; a failure to start is printed in full and ends the process with 1. */
export function runMain(service: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${service} failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * Run `attempt` until it stops failing for want of a connection, waiting 1 s, 2 s, 4 s … up to
 * 15 s in between and saying so in the log each time. Any other failure ends start-up at once.
 */
export async function untilReachable<T>(
  name: string,
  where: string,
  logger: Pick<Logger, "info" | "warn">,
  attempt: () => Promise<T>,
  maxWaitMs = 15_000,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      const result = await attempt();
      if (tries > 1) logger.info({ dependency: name, where }, `${name} is reachable now; starting`);
      return result;
    } catch (err) {
      if (!isConnectionFailure(err)) throw err;
      const waitMs = Math.min(1_000 * 2 ** (tries - 1), maxWaitMs);
      logger.warn(
        { dependency: name, where, err: (err as Error).message, retryInMs: waitMs, attempt: tries },
        `${name} is not reachable at ${where}; not ready, trying again in ${Math.round(waitMs / 1_000)} s`,
      );
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
