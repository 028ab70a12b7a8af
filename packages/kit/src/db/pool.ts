import pg from "pg";
import { ServiceUnavailableError } from "../errors.js";
import { traceQueries } from "../tracing/store-spans.js";
import { isConnectionFailure } from "./connection-errors.js";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that can run a query: the pool itself or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, "query">;

export interface PoolConfig {
  connectionString: string;
  max?: number;
  /** Service schema: put first on the search_path so plain-SQL names resolve to it. */
  schema: string;
  applicationName?: string;
  /** Idle clients can fail (server restart); without a listener pg would crash the process. */
  onError?: (err: Error) => void;
}

export function createPool(config: PoolConfig): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    max: config.max ?? 10,
    application_name: config.applicationName ?? config.schema,
    options: `-c search_path=${quoteIdent(config.schema)},public`,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on("error", config.onError ?? (() => undefined));
  reportOutages(pool);
  const database = databaseOf(config.connectionString);
  traceQueries(pool as never, database);
  pool.on("connect", (client) => traceQueries(client as never, database));
  return pool;
}

function databaseOf(connectionString: string): string | undefined {
  try {
    return decodeURIComponent(new URL(connectionString).pathname.slice(1)) || undefined;
  } catch {
    return undefined;
  }
}

/** What a request meets while Postgres is down: 503 `postgres_unavailable`, not a 500. */
export function postgresUnavailable(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError(
    "postgres_unavailable",
    "The database (Postgres) is not reachable right now; nothing was changed. Try again shortly.",
    { details: { dependency: "postgres" }, cause },
  );
}

const asOutage = (err: unknown) => (isConnectionFailure(err) ? postgresUnavailable(err) : err);

/**
 * Connection failures surface as `postgresUnavailable` from the pool's `query` and `connect` and
 * from every client's `query`, so each caller, whatever it does, tells an outage from a bug.
 */
function reportOutages(pool: pg.Pool): void {
  const wrapQuery = (target: { query: (...args: never[]) => unknown }) => {
    const query = target.query.bind(target) as (...args: unknown[]) => unknown;
    target.query = ((...args: unknown[]) => {
      const result = query(...args);
      return result instanceof Promise
        ? result.catch((err: unknown) => Promise.reject(asOutage(err)))
        : result;
    }) as never;
  };
  wrapQuery(pool as never);
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  pool.connect = ((...args: unknown[]) => {
    const result = connect(...args);
    return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(asOutage(err))) : result;
  }) as never;
  pool.on("connect", (client) => wrapQuery(client as never));
}

/** Run `fn` in one transaction; roll back on any throw and rethrow. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Postgres rolled the transaction back because it met another one (deadlock detected,
 * serialization failure): nothing it did was stored, and running it again may succeed.
 */
export function isTransactionConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "40P01" || code === "40001";
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
