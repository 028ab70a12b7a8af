import type pg from "pg";
import type { Bus, BusLogger } from "../bus/types.js";
import { DEFAULT_OUTBOX_CHANNEL, type OutboxPlace, type OutboxRows } from "./enqueue.js";
import { createHandedQueue } from "./handed.js";
import { createLease, type Lease } from "./lease.js";
import { orderFromPlaces, orderHandedRows, publishInSubjectOrder } from "./order.js";
import { deletePublishedOutbox } from "./retention.js";
import { createDeferredStamps, markPublished } from "./stamps.js";
import { watchEventStream } from "./stream-watch.js";

export interface OutboxRelayConfig {
  pool: Pick<pg.Pool, "query">;
  /**
   * With `ensureStreams`, `eventStreamCreated` and `streams` (a real bus has them), the relay also
   * watches the events stream: a missing one is created before anything is sent (so nothing goes
   * to live subscribers without being stored), and a new one gets every retained event again.
   */
  bus: Pick<Bus, "publishSerialized"> &
    Partial<Pick<Bus, "ensureStreams" | "eventStreamCreated" | "streams">>;
  logger: BusLogger;
  /** For the relay's own connection, which holds the lease and LISTENs. */
  databaseUrl: string;
  channel?: string;
  /** Safety net behind LISTEN/NOTIFY (a missed notification, a row written by hand). Default 1000. */
  pollIntervalMs?: number;
  batchSize?: number;
  /** How often a standby tries to take over. Default 2000. */
  lockRetryMs?: number;
  /**
   * How long stamps of published rows may wait to be written together. Default 100 ms; well inside
   * JetStream's duplicate window, which is what makes a lost stamp harmless.
   */
  markDelayMs?: number;
  /** Published rows older than this are deleted. Default 7 days. */
  retentionMs?: number;
  cleanupIntervalMs?: number;
  /** How often the active relay checks that its events stream is the one it published to. Default 5000. */
  streamCheckMs?: number;
  /** After each published batch: rows, age of the oldest row in ms, rows JetStream already had. */
  onPublished?: (count: number, lagMs: number, duplicates: number) => void;
  /** After a publish that failed for `count` events (they stay in the outbox and are retried). */
  onPublishFailed?: (count: number) => void;
}

export interface OutboxRelay {
  /** Resolves once this instance knows whether it is the active relay. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** If active, publish everything pending now and resolve when done (tests, shutdown). */
  drain(): Promise<void>;
  /**
   * Call after committing outbox rows written without a NOTIFY: the active relay in this process
   * starts a pass at once; otherwise a NOTIFY wakes whichever instance holds the lease.
   */
  wake(): void;
  /**
   * Call right after committing `rows` (before anything else awaits, so tickets follow commit
   * order), and `release()` the ticket once the write may be announced (what a reader of the event
   * asks for is there). The active relay publishes released rows in ticket order without reading
   * them back; a ticket is never published before the ones handed before it. Elsewhere,
   * `release()` is `wake()`. With each row's `OutboxPlace` from the commit (`outboxPlacesSql`),
   * their order against rows of their subjects that only the table holds is known without asking
   * the table.
   */
  handOver(rows: OutboxRows, places?: readonly OutboxPlace[]): OutboxTicket;
  isActive(): boolean;
}

export interface OutboxTicket {
  release(): void;
}

interface OutboxRow {
  seq: string;
  id: string;
  subject: string;
  /** The envelope's JSON text, published as stored. */
  payload: string;
  headers: Record<string, string>;
  created_at: Date;
}

const MAX_RETRY_DELAY_MS = 30_000;

const idleLease: Lease = { start: async () => undefined, stop: async () => undefined, held: () => false };

/**
 * Publishes the outbox to JetStream, in `seq` order, with Nats-Msg-Id = event id. One relay is
 * active per schema (advisory lock); the others stand by. A row is marked only after its PubAck,
 * so a crash in between re-publishes the same id and JetStream drops the copy. A failed row is
 * retried with backoff and never skipped.
 */
export function createOutboxRelay(config: OutboxRelayConfig): OutboxRelay {
  const { pool, bus, logger } = config;
  const batchSize = config.batchSize ?? 500;
  const retentionMs = config.retentionMs ?? 7 * 24 * 60 * 60 * 1_000;
  let pumping: Promise<void> | undefined;
  let again = false;
  let stopping = false;
  let failures = 0;
  let retryAt = 0;
  const timers: NodeJS.Timeout[] = [];
  let retryTimer: NodeJS.Timeout | undefined;

  let lease: Lease = idleLease;
  const channel = config.channel ?? DEFAULT_OUTBOX_CHANNEL;
  const handed = createHandedQueue(batchSize);
  /**
   * The last read of the outbox found nothing else pending and nothing failed since: the handed
   * rows are then all there is to publish. Otherwise the next pass reads the outbox.
   */
  let clean = false;
  let readNeeded = true;
  /** Published, handed-over rows whose stamp is not written yet. */
  const stamps = createDeferredStamps({
    pool,
    delayMs: config.markDelayMs ?? 100,
    batchSize,
    onFailure: markFailed,
  });

  const streamWatch = watchEventStream({
    pool,
    bus,
    logger,
    everyMs: config.streamCheckMs ?? 5_000,
    onRecreated: () => {
      // Every retained row is pending again: forget what memory knew, read the table.
      clean = false;
      readNeeded = true;
      handed.clear();
    },
  });

  const newLease = (schema: string) =>
    createLease({
      databaseUrl: config.databaseUrl,
      // Advisory locks are per database and services share one: the schema makes it per service.
      name: `outbox-relay:${schema}`,
      channel,
      retryMs: config.lockRetryMs ?? 2_000,
      logger,
      onAcquired: () => {
        readNeeded = true;
        streamWatch.due();
        void kick(true);
      },
      onLost: () => {
        // The new holder reads these from the table.
        clean = false;
        handed.clear();
      },
      onNotify: () => {
        readNeeded = true;
        void kick(false);
      },
    });

  /** Single flight: a wake-up during a pass asks for one more pass instead of a parallel one. */
  function kick(force: boolean): Promise<void> {
    if (stopping || !lease.held()) return Promise.resolve();
    if (!force && Date.now() < retryAt) return pumping ?? Promise.resolve();
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      try {
        do {
          again = false;
          await publishPending();
        } while (again && !stopping && lease.held());
      } finally {
        pumping = undefined;
      }
    })();
    return pumping;
  }

  /** Publish what writes handed over, while nothing else is known to be pending. */
  async function publishHanded(): Promise<void> {
    while (!stopping && lease.held() && clean && !readNeeded) {
      const { rows: taken, oldest } = handed.takeReleased();
      if (taken.length === 0) return;
      let rows: typeof taken;
      try {
        const order =
          orderFromPlaces(taken, handed.wasPublished) ??
          (await orderHandedRows(pool, taken, stamps.pending()));
        rows = order.ordered;
        if (order.behind) {
          // An earlier event of one of these subjects is still in the table only (another
          // instance's, or a path that hands nothing over): the read publishes all in seq order.
          clean = false;
          readNeeded = true;
          return;
        }
      } catch (err) {
        clean = false;
        return backOff("could not check the outbox order", err);
      }
      const results = await publishInSubjectOrder(rows, (r) =>
        bus.publishSerialized(r.subject, r.id, r.payload, r.headers),
      );
      const done = rows.filter((_, i) => results[i]!.status === "fulfilled").map((r) => r.id);
      const failed = results.find((r) => r.status === "rejected");
      const held = results.some((r) => r.status === "held");
      if (done.length) {
        stamps.add(done);
        handed.published(done);
        config.onPublished?.(done.length, Date.now() - oldest, 0);
      }
      if (failed) config.onPublishFailed?.(results.filter((r) => r.status === "rejected").length);
      if (failed || held) {
        // The failed rows stay unpublished in the table: a read of the outbox retries them in order.
        clean = false;
        return backOff(
          `could not publish ${rows.length - done.length} outbox events`,
          failed?.status === "rejected" ? failed.reason : undefined,
        );
      }
    }
  }

  async function publishPending(): Promise<void> {
    await publishHanded();
    if (stopping || !lease.held() || (clean && !readNeeded)) return;
    readNeeded = false;
    try {
      // A read must not find rows already published as pending (it would publish them again).
      await stamps.flush();
    } catch (err) {
      clean = false;
      return backOff("could not mark outbox rows", err);
    }
    try {
      await streamWatch.checkIfDue();
    } catch (err) {
      clean = false;
      return backOff("could not check the events stream", err);
    }
    while (!stopping && lease.held()) {
      let rows: OutboxRow[];
      try {
        rows = (
          await pool.query<OutboxRow>(
            `SELECT seq, id, subject, payload::text AS payload, headers, created_at FROM outbox
             WHERE published_at IS NULL ORDER BY seq LIMIT $1`,
            [batchSize],
          )
        ).rows;
      } catch (err) {
        clean = false;
        return backOff("could not read the outbox", err);
      }
      if (rows.length === 0) {
        clean = true;
        return;
      }
      // Subjects in parallel, each subject's rows one after the other (see order.ts).
      const results = await publishInSubjectOrder(rows, (r) =>
        bus.publishSerialized(r.subject, r.id, r.payload, r.headers),
      );
      const done: string[] = [];
      const failed: string[] = [];
      let duplicates = 0;
      let held = 0;
      let firstError: unknown;
      results.forEach((r, i) => {
        const seq = rows[i]!.seq;
        if (r.status === "fulfilled") {
          done.push(rows[i]!.id);
          handed.publishedByRead(rows[i]!.id);
          if (r.value.duplicate) duplicates++;
        } else if (r.status === "rejected") {
          failed.push(seq);
          firstError ??= r.reason;
        } else {
          held++;
        }
      });
      try {
        if (done.length) await markPublished(pool, done);
        if (failed.length) {
          await pool.query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])",
            [failed, String((firstError as Error)?.message ?? firstError).slice(0, 1_000)],
          );
        }
      } catch (err) {
        clean = false;
        return backOff("could not mark outbox rows", err);
      }
      if (done.length) {
        const oldest = Math.min(...rows.map((r) => r.created_at.getTime()));
        config.onPublished?.(done.length, Date.now() - oldest, duplicates);
        if (duplicates)
          logger.debug({ duplicates }, "JetStream already had some outbox events (re-publish after a crash)");
      }
      if (failed.length) config.onPublishFailed?.(failed.length);
      if (failed.length || held) {
        clean = false;
        return backOff(`could not publish ${failed.length + held} outbox events`, firstError);
      }
      failures = 0;
      retryAt = 0;
      if (rows.length < batchSize) {
        clean = true;
        return;
      }
    }
  }

  function backOff(what: string, err: unknown): void {
    failures++;
    readNeeded = true;
    // A failure may be a stream that is gone: look before sending anything again.
    streamWatch.due();
    const wait = Math.min(100 * 2 ** failures, MAX_RETRY_DELAY_MS);
    retryAt = Date.now() + wait;
    logger.warn({ err, retryInMs: wait, failures }, `${what}, will retry`);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void kick(true), wait);
    retryTimer.unref();
  }

  /** Published but not stamped: the next read publishes them again and JetStream drops the copies. */
  function markFailed(err: unknown): void {
    clean = false;
    readNeeded = true;
    logger.warn({ err }, "could not mark outbox rows as published; the next pass sends them again");
  }

  function wake(): void {
    if (lease.held()) {
      readNeeded = true;
      void kick(false);
      return;
    }
    pool.query("SELECT pg_notify($1, '')", [channel]).catch((err: unknown) => {
      logger.debug({ err }, "could not notify the outbox relay; its poll will pick the events up");
    });
  }

  async function cleanup(): Promise<void> {
    if (stopping || !lease.held()) return;
    try {
      const deleted = await deletePublishedOutbox(pool, retentionMs);
      if (deleted) logger.info({ deleted }, "deleted old published outbox rows");
    } catch (err) {
      logger.warn({ err }, "could not clean up the outbox");
    }
  }

  return {
    async start() {
      stopping = false;
      const res = await pool.query<{ schema: string }>("SELECT current_schema() AS schema");
      lease = newLease(res.rows[0]?.schema ?? "public");
      await lease.start();
      const poll = setInterval(() => {
        readNeeded = true;
        void kick(false);
      }, config.pollIntervalMs ?? 1_000);
      const sweep = setInterval(() => void cleanup(), config.cleanupIntervalMs ?? 60 * 60 * 1_000);
      poll.unref();
      sweep.unref();
      timers.push(poll, sweep);
    },
    async stop() {
      stopping = true;
      for (const t of timers.splice(0)) clearInterval(t);
      clearTimeout(retryTimer);
      await pumping;
      await stamps.flush().catch(markFailed);
      await lease.stop();
    },
    drain: () => {
      readNeeded = true;
      return kick(true);
    },
    handOver(rows, places) {
      if (rows.ids.length === 0 || !lease.held()) return { release: wake };
      const ticket = handed.add(rows, places);
      return {
        release: () => {
          ticket.release();
          // After the caller's current work (its answer to the write): publishing a large batch
          // from memory is synchronous work that would otherwise hold that answer back.
          setImmediate(() => void kick(false));
        },
      };
    },
    wake,
    isActive: () => lease.held(),
  };
}
