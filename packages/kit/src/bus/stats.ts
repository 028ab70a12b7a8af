import { dlqSubject } from "./names.js";
import type { BusContext, ConsumerStats } from "./types.js";

/** The server's counts for each durable this bus consumes now; a durable it cannot read is left out. */
export async function consumerStats(ctx: BusContext): Promise<ConsumerStats[]> {
  const jsm = await ctx.jsm();
  const infos = await Promise.all(
    [...ctx.consumers].map(async ([consumer, durable]) => {
      try {
        const info = await jsm.consumers.info(ctx.streams.events, consumer);
        return {
          durable,
          consumer,
          pending: info.num_pending,
          ackPending: info.num_ack_pending,
          redelivered: info.num_redelivered,
        };
      } catch {
        return null;
      }
    }),
  );
  return infos.filter((i): i is ConsumerStats => i !== null);
}

/** Messages in the dead-letter stream per logical consumer (`<prefix>.dlq.<durable>`), 0 when none. */
export async function deadLetterCounts(
  ctx: BusContext,
  durables: readonly string[],
): Promise<Map<string, number>> {
  const jsm = await ctx.jsm();
  const info = await jsm.streams.info(ctx.streams.dlq, { subjects_filter: `${ctx.prefix}.dlq.>` });
  const bySubject = (info.state.subjects ?? {}) as Record<string, number>;
  return new Map(durables.map((d) => [d, bySubject[dlqSubject(ctx.prefix, d)] ?? 0]));
}
