import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type { Logger } from "../logger.js";

/** Tables every service gets from the kit (outbox, processed events), in the service's schema. */
export const KIT_MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

export interface MigrateOptions {
  databaseUrl: string;
  schema: string;
  /** The service's own plain-SQL migrations. */
  dir: string;
  logger?: Logger;
}

/**
 * Bring a service schema up to date: first the kit's tables, then the service's own. node-pg-migrate
 * takes a Postgres advisory lock, so several instances starting at once migrate exactly once.
 */
export async function migrate(options: MigrateOptions): Promise<void> {
  const log = (msg: string) => options.logger?.debug({ schema: options.schema }, msg);
  const common = {
    databaseUrl: options.databaseUrl,
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
  await runner({ ...common, dir: options.dir, migrationsTable: "migrations" });
  options.logger?.info({ schema: options.schema }, "database schema is up to date");
}
