import {
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  type JetStreamManager,
} from "@nats-io/jetstream";
import type { EventType } from "@nexus/contracts";
import { durableFor, prefixSubject } from "./names.js";
import { isApiError } from "./streams.js";
import type { BusContext, BusLogger } from "./types.js";

export type WantedConsumer = Partial<ConsumerConfig> & { durable_name: string; filter_subject: string };

const notFound = (err: unknown) => {
  if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return undefined;
  throw err;
};

/** Create the durable, or bring its tunable settings up to date; safe on every instance start. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  wanted: WantedConsumer,
): Promise<void> {
  const name = wanted.durable_name;
  const existing = await jsm.consumers.info(stream, name).catch(notFound);
  if (!existing) {
    try {
      await jsm.consumers.add(stream, wanted);
      return;
    } catch (err) {
      // A sibling instance may have created it a moment ago; if it now exists, carry on.
      const now = await jsm.consumers.info(stream, name).catch(() => undefined);
      if (!now) throw err;
      return;
    }
  }
  const c = existing.config;
  if (c.filter_subject !== wanted.filter_subject) {
    throw new Error(`consumer ${name} filters ${c.filter_subject}, expected ${wanted.filter_subject}`);
  }
  if (
    c.ack_wait !== wanted.ack_wait ||
    c.max_deliver !== wanted.max_deliver ||
    c.max_ack_pending !== wanted.max_ack_pending
  ) {
    await jsm.consumers.update(stream, name, {
      ack_wait: wanted.ack_wait,
      max_deliver: wanted.max_deliver,
      max_ack_pending: wanted.max_ack_pending,
    });
  }
}

/**
 * A durable that takes over `obsolete` ones on the same filter (services that merged their
 * durables): made, when it does not exist yet, to start after the lowest stream sequence every
 * obsolete one had acknowledged; then the obsolete ones are deleted. A leftover durable would
 * otherwise hold its messages for ever (nobody pulls them) and count as a backlog.
 *
 * Events between the lowest and the highest acknowledged point are seen again by the new durable;
 * handlers are idempotent, and services keep their per-part idempotency keys so those skip.
 */
export async function takeOver(
  jsm: JetStreamManager,
  stream: string,
  wanted: WantedConsumer,
  obsolete: readonly string[],
  logger: BusLogger,
): Promise<void> {
  const found = [];
  for (const name of obsolete) {
    const info = await jsm.consumers.info(stream, name).catch(notFound);
    if (info && info.config.filter_subject === wanted.filter_subject) found.push(info);
  }
  const exists = await jsm.consumers.info(stream, wanted.durable_name).catch(notFound);
  if (!exists && found.length > 0) {
    const after = Math.min(...found.map((i) => i.ack_floor.stream_seq));
    await ensureConsumer(jsm, stream, {
      ...wanted,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: after + 1,
    });
    logger.info(
      { consumer: wanted.durable_name, startSeq: after + 1, replaces: found.map((i) => i.name) },
      "consumer created where the durables it replaces had got to",
    );
  } else {
    await ensureConsumer(jsm, stream, wanted);
  }
  for (const info of found) {
    await jsm.consumers.delete(stream, info.name).catch(notFound);
    logger.info(
      { consumer: info.name, replacedBy: wanted.durable_name },
      "obsolete durable deleted (its events are now read by the consumer that replaced it)",
    );
  }
}

/**
 * Delete the durables `startConsuming` makes for this logical consumer and these types (one per
 * `<type>.>` filter). Missing ones are skipped; returns the names deleted.
 */
export async function dropDurables(
  ctx: Pick<BusContext, "jsm" | "prefix" | "streams" | "logger">,
  durable: string,
  types: readonly EventType[],
): Promise<string[]> {
  const jsm = await ctx.jsm();
  const dropped: string[] = [];
  for (const type of types) {
    const name = durableFor(durable, ctx.prefix, prefixSubject(ctx.prefix, `${type}.>`));
    const deleted = await jsm.consumers.delete(ctx.streams.events, name).catch(notFound);
    if (deleted) dropped.push(name);
  }
  if (dropped.length)
    ctx.logger.info({ consumers: dropped }, "durables deleted (nothing here wants their events now)");
  return dropped;
}
