import { type Pool, type PoolClient, withTransaction } from "@nexus/kit";

/**
 * A transaction whose commit does not wait for the WAL flush. Only for writes whose loss in a
 * crash is repaired by doing the work again: a lost claim or mark leaves a delivery to be sent
 * again (at least once, same dedup key); a lost group flush leaves the group due, so it is
 * flushed again. Alert intake never uses it: the bus event is acknowledged after that commit.
 */
export function withAsyncCommit<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query("SET LOCAL synchronous_commit = off");
    return fn(client);
  });
}
