import type pg from "pg";

export type ProcessOnceResult<T> = { applied: true; result: T } | { applied: false };

/**
 * Run a consumer's effect at most once per event. The processed-event row and the effect commit
 * in one transaction: a redelivery after a crash either finds the row (skip) or finds nothing
 * because the effect rolled back too (run again). A concurrent duplicate blocks on the row's key
 * until the first commits, then skips. If `fn` throws, nothing is recorded and the error
 * propagates, so the message is retried.
 */
export async function processOnce<T>(
  pool: Pick<pg.Pool, "connect">,
  consumer: string,
  eventId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<ProcessOnceResult<T>> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const claimed = await client.query(
      "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      [consumer, eventId],
    );
    if (claimed.rowCount === 0) {
      await client.query("ROLLBACK");
      return { applied: false };
    }
    const result = await fn(client);
    await client.query("COMMIT");
    return { applied: true, result };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * `processOnce` for many events in one transaction: the rows of the events not seen before are
 * claimed with one statement, `fn` gets their ids (in the order given) and the claims commit with
 * its effect. When `fn` throws nothing is recorded.
 */
export async function processEachOnce<T>(
  pool: Pick<pg.Pool, "connect">,
  consumer: string,
  eventIds: readonly string[],
  fn: (client: pg.PoolClient, fresh: ReadonlySet<string>) => Promise<T>,
): Promise<{ fresh: ReadonlySet<string>; result: T }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const claimed = await client.query<{ event_id: string }>(
      `INSERT INTO processed_events (consumer, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS t(id)
       ON CONFLICT DO NOTHING RETURNING event_id::text`,
      [consumer, [...new Set(eventIds)]],
    );
    // Postgres answers uuids in lower case; give back the ids as the caller spelt them.
    const returned = new Set(claimed.rows.map((r) => r.event_id));
    const fresh = new Set(eventIds.filter((id) => returned.has(id.toLowerCase())));
    const result = await fn(client, fresh);
    await client.query("COMMIT");
    return { fresh, result };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
