import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  type JetStreamManager,
  type JsMsg,
  ReplayPolicy,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { EventType } from "@nexus/contracts";
import { context } from "@opentelemetry/api";
import { NEXUS_EVENT_TYPE } from "../tracing/semconv.js";
import { withConsumerSpan } from "../tracing/spans.js";
import { isTracingEnabled } from "../tracing/tracing.js";
import { deadLetter } from "./dlq.js";
import { canonicalSubjectFor, parseEvent } from "./envelope.js";
import { contextFromHeaders, TRACEPARENT } from "./headers.js";
import { assertDurable, canonicalSubject, durableFor, prefixSubject } from "./names.js";
import { EventRefusedError } from "./refused.js";
import { isApiError } from "./streams.js";
import type { BusContext, ConsumeOptions, Consumption, EventHandler } from "./types.js";

const DEFAULT_BACKOFF_MS = [1_000, 5_000, 15_000, 30_000] as const;
const RESTART_DELAY_MS = 1_000;

/**
 * Durable pull consumers for one or more event types. NATS 2.9 allows one filter subject per
 * consumer, so each filter (by default `<type>.>` per type) gets its own durable, named
 * `<durable>-<subject tokens>`; adding a type later never renames the existing ones.
 */
export async function startConsuming<T extends EventType>(
  ctx: BusContext,
  types: readonly T[],
  opts: ConsumeOptions,
  handler: EventHandler<T>,
): Promise<Consumption> {
  assertDurable(opts.durable);
  if (types.length === 0) throw new Error("consume needs at least one event type");
  const settings = {
    maxDeliver: opts.maxDeliver ?? 5,
    backoffMs: opts.backoffMs?.length ? opts.backoffMs : DEFAULT_BACKOFF_MS,
    ackWaitMs: opts.ackWaitMs ?? 30_000,
    concurrency: Math.max(1, opts.concurrency ?? 1),
  };
  const filters = (opts.filterSubjects ?? types.map((t) => `${t}.>`)).map((s) =>
    prefixSubject(ctx.prefix, s),
  );
  const jsm = await ctx.jsm();
  const consumers: { name: string; consumer: Consumer; wanted: WantedConsumer }[] = [];
  for (const filter of filters) {
    const name = durableFor(opts.durable, ctx.prefix, filter);
    const wanted: WantedConsumer = {
      durable_name: name,
      description: `${opts.durable} reading ${filter}`,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: opts.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      ack_wait: nanos(settings.ackWaitMs),
      // One spare delivery: if the process dies during the last attempt, the next one only
      // dead-letters the event instead of the server dropping it silently.
      max_deliver: settings.maxDeliver + 1,
      max_ack_pending: opts.maxAckPending ?? 1_000,
    };
    await ensureConsumer(jsm, ctx.streams.events, wanted);
    consumers.push({ name, wanted, consumer: await ctx.js.consumers.get(ctx.streams.events, name) });
  }

  /**
   * The stream or the durable is gone (a JetStream store lost, someone deleted it): make both
   * again and go on. The new durable starts at the beginning of the (new) stream; the outbox
   * relays re-publish what the lost stream held, and handlers are idempotent.
   */
  const recreate = async (name: string, wanted: WantedConsumer): Promise<Consumer> => {
    await ctx.ensureStreams();
    await ensureConsumer(await ctx.jsm(), ctx.streams.events, wanted);
    ctx.logger.warn({ consumer: name }, "consumer was missing and has been created again");
    return ctx.js.consumers.get(ctx.streams.events, name);
  };

  const expected = new Set<string>(types);
  let stopping = false;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const open = new Set<ConsumerMessages>();

  const handleOne = async (m: JsMsg, name: string): Promise<void> => {
    const deliveryCount = m.info.deliveryCount;
    if (deliveryCount > 1) for (const o of ctx.observers) o.redelivered?.(opts.durable);
    const where = { consumer: name, subject: m.subject, streamSeq: m.seq, deliveryCount };
    const parsed = parseEvent<T>(m.data, expected);
    if (!parsed.ok) {
      ctx.logger.warn(
        { ...where, reason: parsed.reason, error: parsed.message },
        "poison message dead-lettered",
      );
      await settleDead(m, `${parsed.reason}: ${parsed.message}`, parsed.eventId);
      return;
    }
    const eventId = parsed.event.id;
    // The subject is the authority (NATS permissions are per subject): a body naming another
    // target than its subject could put data where its publisher may not.
    const bodySubject = canonicalSubjectFor(parsed.event.type, parsed.event.data);
    const arrivedOn = canonicalSubject(ctx.prefix, m.subject);
    if (bodySubject !== arrivedOn) {
      ctx.logger.warn(
        { ...where, eventId, bodySubject },
        "event whose body disagrees with its subject dead-lettered",
      );
      await settleDead(
        m,
        `subject_mismatch: the body belongs on ${bodySubject}, it came on ${arrivedOn}`,
        eventId,
      );
      return;
    }
    if (deliveryCount > settings.maxDeliver) {
      ctx.logger.error({ ...where, eventId }, "event ran out of deliveries without a verdict, dead-lettered");
      await settleDead(m, "no_verdict: the last delivery neither succeeded nor failed", eventId);
      return;
    }
    const keepAlive = setInterval(() => m.working(), Math.max(500, settings.ackWaitMs / 2));
    try {
      const traceparent = m.headers?.get(TRACEPARENT) || undefined;
      const eventCtx = { subject: m.subject, deliveryCount, traceparent, msg: m };
      const parent = contextFromHeaders(m.headers);
      const run = async () => await handler(parsed.event, eventCtx);
      if (!isTracingEnabled()) await context.with(parent, run);
      else {
        const info = {
          subject: m.subject,
          group: opts.durable,
          messageId: eventId,
          deliveryCount,
          attributes: { [NEXUS_EVENT_TYPE]: parsed.event.type },
        };
        await withConsumerSpan(parent, info, run);
      }
      m.ack();
    } catch (err) {
      if (err instanceof EventRefusedError) {
        ctx.logger.warn(
          { ...where, eventId, code: err.code, reason: err.message },
          "event refused, dead-lettered",
        );
        await settleDead(m, `${err.code}: ${err.message}`, eventId);
      } else if (deliveryCount >= settings.maxDeliver) {
        ctx.logger.error({ ...where, eventId, err }, "handler failed on its last delivery, dead-lettered");
        await settleDead(m, `handler_failed: ${(err as Error)?.message ?? String(err)}`, eventId);
      } else {
        const delay = backoffFor(settings.backoffMs, deliveryCount);
        ctx.logger.warn({ ...where, eventId, err, retryInMs: delay }, "handler failed, will retry");
        m.nak(delay);
      }
    } finally {
      clearInterval(keepAlive);
    }

    async function settleDead(msg: JsMsg, reason: string, id: string | undefined): Promise<void> {
      try {
        await deadLetter(ctx, msg, { durable: opts.durable, consumer: name, reason, eventId: id });
        const code = reason.slice(0, Math.max(0, reason.indexOf(":"))) || "unknown";
        for (const o of ctx.observers) o.deadLettered?.(opts.durable, code);
        // No reason argument: NATS 2.9 does not parse `+TERM <reason>` and would redeliver.
        msg.term();
      } catch (err) {
        // Keep the event: a later delivery (the spare one, at worst) tries the dead-letter again.
        ctx.logger.error({ ...where, err }, "could not dead-letter an event, will retry");
        msg.nak(backoffFor(settings.backoffMs, msg.info.deliveryCount));
      }
    }
  };

  const run = async (name: string, first: Consumer, wanted: WantedConsumer): Promise<void> => {
    const inflight = new Set<Promise<void>>();
    let consumer = first;
    let missing = false;
    while (!stopping) {
      let messages: ConsumerMessages | undefined;
      try {
        if (missing) {
          consumer = await recreate(name, wanted);
          missing = false;
        }
        // Without the abort the client waits, silently and for ever, for someone else to make
        // a deleted stream or durable again.
        messages = await consumer.consume({
          max_messages: Math.max(2, settings.concurrency * 2),
          abort_on_missing_resource: true,
          // Pull requests live 5 s (idle heartbeats every 2.5 s) instead of 30 s: when the NATS
          // node leading this durable dies, the client notices the silence and pulls from the
          // new leader within seconds rather than up to a minute later.
          expires: 5_000,
        });
        open.add(messages);
        if (stopping) messages.close();
        for await (const m of messages) {
          // Buffered but not started: hand back at once so another instance takes it now
          // rather than after ack_wait.
          if (stopping) {
            m.nak();
            continue;
          }
          const p = handleOne(m, name).finally(() => inflight.delete(p));
          inflight.add(p);
          if (inflight.size >= settings.concurrency) await Promise.race(inflight);
        }
        // The iterator ends by itself only when something ended it: check the durable first.
        missing = true;
      } catch (err) {
        if (!stopping) ctx.logger.warn({ consumer: name, err }, "consumer stopped unexpectedly, restarting");
        missing = true; // checked (and made again if gone) before the next attempt
      } finally {
        if (messages) open.delete(messages);
      }
      if (!stopping) await Promise.race([delay(RESTART_DELAY_MS), stopped]);
    }
    await Promise.all(inflight);
  };

  for (const { name } of consumers) ctx.consumers.set(name, opts.durable);
  const loops = consumers.map(({ name, consumer, wanted }) => run(name, consumer, wanted));
  ctx.logger.info({ durables: consumers.map((c) => c.name), filters }, "consuming events");
  return {
    durables: consumers.map((c) => c.name),
    async stop() {
      stopping = true;
      wake();
      for (const m of open) void m.close();
      await Promise.all(loops);
      for (const { name } of consumers) ctx.consumers.delete(name);
      // Acks are fire-and-forget; make sure the last ones reached the server before we return.
      if (!ctx.nc.isClosed()) await ctx.nc.flush().catch(() => undefined);
    },
  };
}

function backoffFor(backoffMs: readonly number[], deliveryCount: number): number {
  return backoffMs[Math.min(deliveryCount - 1, backoffMs.length - 1)] ?? 1_000;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

type WantedConsumer = Partial<ConsumerConfig> & { durable_name: string; filter_subject: string };

/** Create the durable, or bring its tunable settings up to date; safe on every instance start. */
async function ensureConsumer(jsm: JetStreamManager, stream: string, wanted: WantedConsumer): Promise<void> {
  const name = wanted.durable_name;
  const existing = await jsm.consumers.info(stream, name).catch((err: unknown) => {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw err;
  });
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
