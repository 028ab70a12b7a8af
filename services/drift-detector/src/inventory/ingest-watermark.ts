import { type JetStreamManager, jetstreamManager, type MsgRequest } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * The time up to which instance reports are in Postgres: the stream time of the oldest report the
 * inventory durables have not acked yet (acks come only after the flush), or now when nothing is
 * pending. Shared durables make this true for every detector instance at once.
 *
 * Stale findings are judged at this time, not at the wall clock: when the detector falls behind
 * (a burst of 10,000 acks after a change, a restart, a slow Postgres), an instance whose ack is
 * still in the backlog must not be called stale.
 */
export function createIngestWatermark(deps: {
  nc: NatsConnection;
  /** The events stream's name (read when needed: the bus may not exist when this is built). */
  stream: () => string;
  durables: () => readonly string[];
}) {
  let jsm: JetStreamManager | undefined;
  return async (now: number): Promise<number> => {
    const names = deps.durables();
    if (names.length === 0) return now;
    jsm ??= await jetstreamManager(deps.nc);
    const stream = deps.stream();
    let mark = now;
    for (const name of names) {
      const info = await jsm.consumers.info(stream, name);
      if (info.num_pending === 0 && info.num_ack_pending === 0) continue;
      // The first message of this durable's subjects after its ack floor (other event types
      // share the stream and would make the mark look older than it is).
      // NATS 2.9+ answers `next_by_subj` on STREAM.MSG.GET; the client types it for direct gets only.
      const query = { seq: info.ack_floor.stream_seq + 1, next_by_subj: info.config.filter_subject ?? ">" };
      const first = await jsm.streams.getMessage(stream, query as unknown as MsgRequest).catch(() => null);
      // A message already gone (stream limits) says nothing; the next pass looks again.
      if (first) mark = Math.min(mark, first.time.getTime());
    }
    return mark;
  };
}
