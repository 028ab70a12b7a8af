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
 * - a row handed over from memory (kit relay `handOver`) ahead of an earlier row of its subject:
 *   two commits' answers heard the other way round (`orderHandedRows` sorts a batch by `seq`), or
 *   a row another instance, or another path of this one, committed and has not handed over (found
 *   in the table: the relay then reads the table instead).
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
 * Handed-over rows put in `seq` order (the order of their commits for each subject; a process may
 * hear two commits' answers the other way round), and whether the outbox holds an unpublished row
 * of one of their subjects that comes before them and is neither among them nor in `published`
 * (sent, stamp not yet written): then they must not go out from memory.
 */
export async function orderHandedRows<R extends PublishableRow>(
  pool: Pick<pg.Pool, "query">,
  rows: readonly R[],
  published: readonly string[],
): Promise<{ behind: boolean; ordered: R[] }> {
  const ids = rows.map((r) => r.id);
  const res = await pool.query<{ behind: boolean; ordered: string[] }>({
    name: "outbox-handed-order",
    text: `WITH batch AS (SELECT id, seq FROM outbox WHERE id = ANY($2::uuid[]))
           SELECT EXISTS (
                    SELECT 1 FROM outbox o
                    WHERE o.published_at IS NULL AND o.subject = ANY($1::text[])
                      AND o.seq < (SELECT max(seq) FROM batch)
                      AND NOT (o.id = ANY($2::uuid[])) AND NOT (o.id = ANY($3::uuid[]))
                  ) AS behind,
                  ARRAY(SELECT id::text FROM batch ORDER BY seq) AS ordered`,
    values: [[...new Set(rows.map((r) => r.subject))], ids, published],
  });
  const row = res.rows[0];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = (row?.ordered ?? []).map((id) => byId.get(id)).filter((r): r is R => r !== undefined);
  // A row the table does not have (cannot happen for a committed write) is never sent from memory.
  return { behind: row?.behind === true || ordered.length !== rows.length, ordered };
}
