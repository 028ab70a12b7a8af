import type pg from "pg";

/**
 * Without waiting for the WAL flush: if a stamp is lost in a crash, the rows go out again with the
 * same Nats-Msg-Id and JetStream drops them, so this commit needs no fsync of its own. One
 * simple-protocol query is one implicit transaction, which `SET LOCAL` applies to. By event id,
 * since rows handed over carry no seq.
 */
export async function markPublished(pool: Pick<pg.Pool, "query">, ids: string[]): Promise<void> {
  if (!ids.every((id) => /^[0-9a-f-]{36}$/i.test(id))) throw new Error("outbox ids must be UUIDs");
  await pool.query(
    `SET LOCAL synchronous_commit TO OFF; UPDATE outbox SET published_at = now() WHERE id IN (${ids.map((id) => `'${id}'`).join(",")}) AND published_at IS NULL`,
  );
}

/**
 * Stamps of published rows written a few at a time (after `delayMs`, or once `batchSize` wait):
 * at one write in flight, a stamp per event was a Postgres round trip per write. Until written,
 * the rows are still pending in the table, so whoever reads the outbox calls `flush` first.
 */
export function createDeferredStamps(opts: {
  pool: Pick<pg.Pool, "query">;
  delayMs: number;
  batchSize: number;
  /** A deferred write failed: the rows stay pending and go out again (JetStream drops copies). */
  onFailure: (err: unknown) => void;
}) {
  let waiting: string[] = [];
  /** The ids of the stamp being written now. */
  let inWrite: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    while (writing) await writing;
    if (waiting.length === 0) return;
    const ids = waiting;
    waiting = [];
    inWrite = ids;
    writing = markPublished(opts.pool, ids).finally(() => {
      writing = undefined;
      inWrite = [];
    });
    await writing;
  }

  return {
    add(ids: readonly string[]): void {
      for (const id of ids) waiting.push(id);
      if (waiting.length >= opts.batchSize) {
        void flush().catch(opts.onFailure);
        return;
      }
      if (timer) return;
      timer = setTimeout(() => void flush().catch(opts.onFailure), opts.delayMs);
      timer.unref();
    },
    flush,
    /** Published rows whose stamp is not committed yet (still unpublished in the table). */
    pending: (): string[] => [...inWrite, ...waiting],
  };
}
