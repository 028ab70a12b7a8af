import type pg from "pg";
import type { OutboxPlace } from "./enqueue.js";

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
 *   two commits' answers heard the other way round (a batch is sorted by `seq`), or a row another
 *   instance, or another path of this one, committed and has not handed over (the relay then reads
 *   the table instead). Rows handed over with their `OutboxPlace` say which rows of their subject
 *   were unpublished at their commit (`orderFromPlaces`, no round trip); others are looked up in
 *   the table after the commit (`orderHandedRows`).
 *
 * Why a commit's own snapshot lists every earlier row of its subjects: the writer holds (and moves
 * on) the row every writer of those subjects locks and moves on, so any such writer either
 * committed before the statement's snapshot was taken, and its rows are in it, or moved that row
 * afterwards, and then the write's compare-and-swap on that row fails and nothing is committed.
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

/**
 * `orderHandedRows` from what each row's commit saw instead of a query: the rows in `seq` order,
 * and `behind` when a row's subject had an unpublished row at its commit that is neither before it
 * in this batch nor published by this relay (`published`), or the list was cut off (null).
 * Undefined when a row came without its place (then the table is asked).
 */
export function orderFromPlaces<R extends PublishableRow & { place?: OutboxPlace | undefined }>(
  rows: readonly R[],
  published: (id: string) => boolean,
): { behind: boolean; ordered: R[] } | undefined {
  if (!rows.every((r) => r.place)) return undefined;
  const ordered = [...rows].sort((a, b) => a.place!.seq - b.place!.seq);
  const before = new Set<string>();
  for (const row of ordered) {
    const { earlier } = row.place!;
    if (earlier === null || !earlier.every((id) => before.has(id) || published(id))) {
      return { behind: true, ordered };
    }
    before.add(row.id);
  }
  return { behind: false, ordered };
}

/**
 * Ids this relay published lately, the newest `limit` (an id that fell out only costs a read of
 * the table): what `orderFromPlaces` asks about is a row unpublished in the table at a commit a
 * few milliseconds old.
 */
export function createRecentIds(limit: number) {
  const ids = new Set<string>();
  return {
    add(list: Iterable<string>): void {
      for (const id of list) {
        ids.delete(id);
        ids.add(id);
        if (ids.size > limit) ids.delete(ids.values().next().value!);
      }
    },
    has: (id: string) => ids.has(id),
    clear: () => ids.clear(),
  };
}
