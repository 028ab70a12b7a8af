import type { Pool, PoolClient } from "@nexus/kit";

/** Advisory-lock key of "a restore is running" (the system's, or a namespace's): one at a time. */
export const RESTORE_LOCK = "nexus-backup:restore";

/** A session advisory lock held on a connection of its own for as long as a run lasts. */
export interface HeldLock {
  client: PoolClient;
  /** Unlock and give the connection back (once; later calls do nothing). */
  release(err?: unknown): Promise<void>;
}

/**
 * Take the lock `name` if nobody holds it, else null. The lock lives with the session: when the
 * process or its connection dies, Postgres frees it, so a run that died never blocks the next
 * one, and a row still marked `running` whose lock is free is known to be interrupted.
 */
export async function tryHoldLock(pool: Pool, name: string): Promise<HeldLock | null> {
  const client = await pool.connect();
  try {
    const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [name]);
    if (!r.rows[0]!.ok) {
      client.release();
      return null;
    }
  } catch (err) {
    client.release(err as Error);
    throw err;
  }
  let released = false;
  return {
    client,
    async release(err?: unknown) {
      if (released) return;
      released = true;
      if (err) return client.release(err as Error); // a broken connection is closed, and its lock with it
      // A connection that cannot even unlock is broken: closing it frees the lock too.
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [name]).then(
        () => client.release(),
        (e: Error) => client.release(e),
      );
    },
  };
}
