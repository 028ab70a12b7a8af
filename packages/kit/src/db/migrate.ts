import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import pg from "pg";
import type { Logger } from "../logger.js";

/** Tables every service gets from the kit (outbox, processed events), in the service's schema. */
export const KIT_MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

export interface MigrateOptions {
  databaseUrl: string;
  schema: string;
  /** The service's own plain-SQL migrations (none: only the kit's tables). */
  dir?: string;
  logger?: Logger;
}

/**
 * Bring a service schema up to date: first the kit's tables, then the service's own. Instances
 * starting at once queue on a Postgres advisory lock (node-pg-migrate's own lock fails instead of
 * waiting), so the schema is migrated exactly once and nobody starts on a half-migrated schema.
 */
export async function migrate(options: MigrateOptions): Promise<void> {
  const log = (msg: string) => options.logger?.debug({ schema: options.schema }, msg);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  client.on("error", () => undefined);
  await client.connect();
  const lockKey = `nexus-migrate:${options.schema}`;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    await runMigrations(client, options, log);
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]).catch(() => undefined);
    await client.end();
  }
  options.logger?.info({ schema: options.schema }, "database schema is up to date");
}

async function runMigrations(
  client: pg.Client,
  options: MigrateOptions,
  log: (msg: string) => void,
): Promise<void> {
  const common = {
    dbClient: client,
    noLock: true,
    schema: options.schema,
    createSchema: true,
    direction: "up" as const,
    count: Number.POSITIVE_INFINITY,
    checkOrder: true,
    singleTransaction: true,
    log,
    logger: { debug: log, info: log, warn: log, error: log },
  };
  await runner({ ...common, dir: KIT_MIGRATIONS_DIR, migrationsTable: "kit_migrations" });
  if (options.dir) await runner({ ...common, dir: options.dir, migrationsTable: "migrations" });
}
