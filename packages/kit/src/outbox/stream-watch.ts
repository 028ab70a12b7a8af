import type pg from "pg";
import type { Bus, BusLogger } from "../bus/types.js";

/**
 * The relay's watch on the events stream it publishes to (see migration `outbox-streams`).
 * - A missing stream is created before anything is sent: a JetStream publish to a subject no
 *   stream captures still reaches live core subscribers, unstored, and would again on every retry.
 * - A stream whose creation time differs from the one recorded was lost and made again (a wiped
 *   JetStream store): every row the outbox still keeps is marked unpublished in the same statement
 *   that records the new stream, so the relay sends them again in `seq` order and durable
 *   consumers, whose handlers are idempotent, are made whole. The first record just records.
 */
export function watchEventStream(opts: {
  pool: Pick<pg.Pool, "query">;
  bus: Partial<Pick<Bus, "ensureStreams" | "eventStreamCreated" | "streams">>;
  logger: BusLogger;
  everyMs: number;
  onRecreated: () => void;
}) {
  const { bus, logger } = opts;
  let nextCheck = 0;

  async function check(): Promise<void> {
    if (!bus.ensureStreams || !bus.eventStreamCreated || !bus.streams) return;
    const stream = bus.streams.events;
    let created = await bus.eventStreamCreated();
    if (created === null) {
      logger.warn({ stream }, "the events stream is missing (a lost JetStream store?); creating it again");
      await bus.ensureStreams();
      created = await bus.eventStreamCreated();
      if (created === null) throw new Error(`the events stream ${stream} could not be created`);
    }
    const res = await opts.pool.query<{ republished: number; recreated: boolean }>({
      name: "outbox-stream-record",
      text: `WITH previous AS (
               SELECT created FROM outbox_streams WHERE stream = $1
             ), recorded AS (
               INSERT INTO outbox_streams (stream, created) VALUES ($1, $2)
               ON CONFLICT (stream) DO UPDATE SET created = EXCLUDED.created, seen_at = now()
               WHERE outbox_streams.created IS DISTINCT FROM EXCLUDED.created
             ), republish AS (
               UPDATE outbox SET published_at = NULL
               WHERE published_at IS NOT NULL
                 AND EXISTS (SELECT 1 FROM previous WHERE created IS DISTINCT FROM $2)
               RETURNING 1
             )
             SELECT (SELECT count(*)::int FROM republish) AS republished,
                    EXISTS (SELECT 1 FROM previous WHERE created IS DISTINCT FROM $2) AS recreated`,
      values: [stream, created],
    });
    const row = res.rows[0];
    if (row?.recreated) {
      logger.warn(
        { stream, republished: row.republished },
        `the events stream ${stream} was created again (its earlier content is lost); re-publishing the ${row.republished} events the outbox still keeps`,
      );
      opts.onRecreated();
    }
  }

  return {
    /** Check before the next send (start, lease taken, after a failure). */
    due(): void {
      nextCheck = 0;
    },
    async checkIfDue(): Promise<void> {
      if (Date.now() < nextCheck) return;
      await check();
      nextCheck = Date.now() + opts.everyMs;
    },
  };
}
