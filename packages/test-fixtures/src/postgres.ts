import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createPool, KIT_MIGRATIONS_DIR, migrate, quoteIdent } from "@nexus/kit";
import pg from "pg";
import { testConfig } from "./config.js";

/** Admin connection (the `postgres` maintenance DB) used to create and drop test databases. */
export const ADMIN_URL = testConfig.adminDatabaseUrl;

export const TEMPLATE_PREFIX = "nexus_tpl_";
export const TEST_DB_PREFIX = "nexus_test_";

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  schema: string;
  /** A service's own migrations; the kit's always run first. */
  migrationsDir?: string;
}

function databaseUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Templates are keyed by the content of every migration that went into them, so they are
 * rebuilt exactly when a migration changes and reused otherwise. */
function templateName(options: TestDatabaseOptions): string {
  const hash = createHash("sha256").update(options.schema);
  for (const dir of [KIT_MIGRATIONS_DIR, options.migrationsDir].filter(Boolean) as string[]) {
    for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  }
  return `${TEMPLATE_PREFIX}${hash.digest("hex").slice(0, 16)}`;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function ensureTemplate(options: TestDatabaseOptions): Promise<string> {
  const name = templateName(options);
  await withAdmin(async (admin) => {
    // Several test files start at once; one builds the template, the others wait on the lock.
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [name]);
    try {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (exists.rowCount) return;
      const building = `${name}_build_${randomBytes(3).toString("hex")}`;
      await admin.query(`CREATE DATABASE ${quoteIdent(building)}`);
      const migrateOptions = {
        databaseUrl: databaseUrl(building),
        schema: options.schema,
        ...(options.migrationsDir ? { dir: options.migrationsDir } : {}),
      };
      await migrate(migrateOptions);
      await admin.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [name]);
    }
  });
  return name;
}

/** A fresh database cloned from the migrated template; one per test file. */
export async function createTestDatabase(options: TestDatabaseOptions): Promise<TestDatabase> {
  const template = await ensureTemplate(options);
  const name = `${TEST_DB_PREFIX}${testConfig.runId}_${randomBytes(6).toString("hex")}`;
  await withAdmin(async (admin) => {
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [template]);
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [template]);
    }
  });
  const url = databaseUrl(name);
  const pool = createPool({ connectionString: url, schema: options.schema, max: 10 });
  let dropped = false;
  return {
    url,
    name,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end();
      await dropDatabase(name);
    },
  };
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** Drop every database one test run made (used by the global teardown). */
export async function dropTestDatabasesOfRun(runId: string): Promise<void> {
  const names = await withAdmin(async (admin) => {
    const res = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1",
      [`${TEST_DB_PREFIX}${runId}_%`],
    );
    return res.rows.map((r) => r.datname);
  });
  for (const name of names) await dropDatabase(name);
}
