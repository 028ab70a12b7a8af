import type { OutboxPlace, OutboxRows } from "./enqueue.js";
import { createRecentIds } from "./order.js";

/** A row a write handed over after its commit, published from memory once its ticket is released. */
export interface HandedRow {
  id: string;
  subject: string;
  payload: string;
  headers: Record<string, string>;
  /** From the commit (`outboxPlacesSql`); without it the relay asks the table for the order. */
  place?: OutboxPlace | undefined;
}

interface Handed {
  rows: HandedRow[];
  released: boolean;
  /** When it was handed over (for the publish lag). */
  at: number;
}

/** Published ids remembered for `orderFromPlaces`: many seconds of events at any rate seen so far. */
const RECENT_PUBLISHED = 20_000;

/**
 * The active relay's memory of handed-over rows: the queue of tickets in commit order, the rows a
 * read of the table published while they were also queued (not to publish them twice), and the
 * ids it published lately (which `orderFromPlaces` counts as done). All of it is dropped whenever
 * the table becomes the only truth again (lease lost, stream re-created).
 */
export function createHandedQueue(batchSize: number) {
  const queue: Handed[] = [];
  const publishedByRead = new Set<string>();
  const recent = createRecentIds(RECENT_PUBLISHED);

  return {
    /** Queue a write's rows; `release` once they may be announced. */
    add(rows: OutboxRows, places: readonly OutboxPlace[] | undefined): { release(): void } {
      const placeOf = new Map(places?.map((p) => [p.id, p]));
      const entry: Handed = {
        rows: rows.ids.map((id, i) => ({
          id,
          subject: rows.subjects[i]!,
          payload: rows.payloads[i]!,
          headers: JSON.parse(rows.headers[i]!) as Record<string, string>,
          place: placeOf.get(id),
        })),
        released: false,
        at: Date.now(),
      };
      queue.push(entry);
      return {
        release: () => {
          entry.released = true;
        },
      };
    },

    /** Released rows at the head of the queue; an unreleased ticket holds back those after it. */
    takeReleased(): { rows: HandedRow[]; oldest: number } {
      const rows: HandedRow[] = [];
      let oldest = Date.now();
      while (queue.length > 0 && queue[0]!.released && rows.length < batchSize) {
        const entry = queue.shift()!;
        oldest = Math.min(oldest, entry.at);
        for (const r of entry.rows) {
          if (publishedByRead.delete(r.id)) continue;
          rows.push(r);
        }
      }
      if (queue.length === 0) publishedByRead.clear();
      return { rows, oldest };
    },

    /** Rows published from memory. */
    published(ids: readonly string[]): void {
      recent.add(ids);
    },

    /** A row a read of the table published (it may also be queued: then it is not sent again). */
    publishedByRead(id: string): void {
      recent.add([id]);
      if (queue.length > 0) publishedByRead.add(id);
    },

    /** Whether this relay published `id` lately. */
    wasPublished: (id: string): boolean => recent.has(id),

    clear(): void {
      queue.length = 0;
      publishedByRead.clear();
      recent.clear();
    },
  };
}
export type HandedQueue = ReturnType<typeof createHandedQueue>;
