import type pg from "pg";

/**
 * Per-subject order of the outbox, which is what consumers rely on: the events of one
 * (namespace, environment) share a subject and must reach the stream in commit order.
 *
 * Why `seq` order is commit order for one subject: every write that enqueues an event for a subject
 * holds a row lock (the registry: the namespace row) from before its `INSERT INTO outbox` until its
 * commit, so a later event of the same subject takes its `seq` only after the earlier one committed.
 * Two things could still reorder them on the way out, and this module closes both:
 * - a publish that fails while a later one of the same subject succeeds (the failed one goes out
 *   later): `publishInSubjectOrder` sends a subject's next row only after the previous one's PubAck;
 * - a row handed over from memory (kit relay `handOver`) ahead of an earlier row of its subject that
 *   another instance, or another path of this one, committed and has not handed over:
 *   `handedRowsBehind` finds such a row in the table, and the relay then reads the table instead.
 */

export interface PublishableRow {
  id: string;
  subject: string;
}

export type PublishOutcome<T> =
  | { status: "fulfilled"; value: T }
  | { status: "rejected"; reason: unknown }
  /** Not sent: an earlier row of its subject failed in this batch. */
  | { status: "held" };

/**
 * Publish rows concurrently across subjects and one after the other within a subject; after a
 * failure, the rest of that subject's rows are held (left for the next pass, in order).
 */
export async function publishInSubjectOrder<R extends PublishableRow, T>(
  rows: readonly R[],
  publish: (row: R) => Promise<T>,
): Promise<PublishOutcome<T>[]> {
  const outcomes: PublishOutcome<T>[] = rows.map(() => ({ status: "held" }));
  const chains = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const chain = chains.get(row.subject);
    if (chain) chain.push(i);
    else chains.set(row.subject, [i]);
  });
  await Promise.all(
    [...chains.values()].map(async (indexes) => {
      for (const i of indexes) {
        try {
          outcomes[i] = { status: "fulfilled", value: await publish(rows[i]!) };
        } catch (reason) {
          outcomes[i] = { status: "rejected", reason };
          return;
        }
      }
    }),
  );
  return outcomes;
}

/**
 * Whether the outbox holds an unpublished row of one of these rows' subjects that comes before
 * them (`seq`) and is neither among them nor in `published` (sent, stamp not yet written).
 */
export async function handedRowsBehind(
  pool: Pick<pg.Pool, "query">,
  rows: readonly PublishableRow[],
  published: readonly string[],
): Promise<boolean> {
  const ids = rows.map((r) => r.id);
  const res = await pool.query<{ behind: boolean }>({
    name: "outbox-handed-behind",
    text: `SELECT EXISTS (
             SELECT 1 FROM outbox o
             WHERE o.published_at IS NULL AND o.subject = ANY($1::text[])
               AND o.seq < (SELECT max(seq) FROM outbox WHERE id = ANY($2::uuid[]))
               AND NOT (o.id = ANY($2::uuid[])) AND NOT (o.id = ANY($3::uuid[]))
           ) AS behind`,
    values: [[...new Set(rows.map((r) => r.subject))], ids, published],
  });
  return res.rows[0]?.behind === true;
}
