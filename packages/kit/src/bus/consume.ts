import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
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
import { ensureConsumer, takeOver, type WantedConsumer } from "./durables.js";
import type { EventOf } from "./envelope.js";
import { canonicalSubjectFor, parseEvent } from "./envelope.js";
import { contextFromHeaders, TRACEPARENT } from "./headers.js";
import { assertDurable, canonicalSubject, durableFor, prefixSubject } from "./names.js";
import { EventRefusedError } from "./refused.js";
import type {
  BatchHandler,
  BusContext,
  ConsumeOptions,
  Consumption,
  EventContext,
  EventHandler,
} from "./types.js";

const DEFAULT_BACKOFF_MS = [1_000, 5_000, 15_000, 30_000] as const;
const RESTART_DELAY_MS = 1_000;

/** A handler per event, or a batch handler with the most events it takes at once. */
export type Handling<T extends EventType> =
  | { each: EventHandler<T> }
  | { batch: BatchHandler<T>; max: number; waitMs: number };

/** A delivery that passed the checks, ready for a handler. */
interface Admitted<T extends EventType> {
  event: EventOf<T>;
  ctx: EventContext;
  where: { consumer: string; subject: string; streamSeq: number; deliveryCount: number };
}

/**
 * Durable pull consumers for one or more event types. NATS 2.9 allows one filter subject per
 * consumer, so each filter (by default `<type>.>` per type) gets its own durable, named
 * `<durable>-<subject tokens>`; adding a type later never renames the existing ones.
 */
export async function startConsuming<T extends EventType>(
  ctx: BusContext,
  types: readonly T[],
  opts: ConsumeOptions,
  handling: Handling<T>,
): Promise<Consumption> {
  assertDurable(opts.durable);
  if (types.length === 0) throw new Error("consume needs at least one event type");
  const settings = {
    maxDeliver: opts.maxDeliver ?? 5,
    backoffMs: opts.backoffMs?.length ? opts.backoffMs : DEFAULT_BACKOFF_MS,
    ackWaitMs: opts.ackWaitMs ?? 30_000,
    concurrency: Math.max(1, opts.concurrency ?? 1),
    maxBatch: "max" in handling ? Math.max(1, handling.max) : 1,
    waitMs: "max" in handling ? handling.waitMs : 0,
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
      ...(opts.startAt
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.startAt.toISOString() }
        : { deliver_policy: opts.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All }),
      replay_policy: ReplayPolicy.Instant,
      ack_wait: nanos(settings.ackWaitMs),
      // One spare delivery: if the process dies during the last attempt, the next one only
      // dead-letters the event instead of the server dropping it silently.
      max_deliver: settings.maxDeliver + 1,
      max_ack_pending: opts.maxAckPending ?? 1_000,
    };
    const obsolete = (opts.replaces ?? [])
      .map((old) => durableFor(old, ctx.prefix, filter))
      .filter((old) => old !== name);
    if (obsolete.length > 0) await takeOver(jsm, ctx.streams.events, wanted, obsolete, ctx.logger);
    else await ensureConsumer(jsm, ctx.streams.events, wanted);
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

  /**
   * The checks every delivery passes before a handler sees it. A message that fails them is
   * dead-lettered here and `undefined` returned.
   */
  const admit = async (m: JsMsg, name: string): Promise<Admitted<T> | undefined> => {
    const deliveryCount = m.info.deliveryCount;
    if (deliveryCount > 1) for (const o of ctx.observers) o.redelivered?.(opts.durable);
    const where = { consumer: name, subject: m.subject, streamSeq: m.seq, deliveryCount };
    const parsed = parseEvent<T>(m.data, expected);
    if (!parsed.ok) {
      ctx.logger.warn(
        { ...where, reason: parsed.reason, error: parsed.message },
        "poison message dead-lettered",
      );
      await settleDead(m, name, `${parsed.reason}: ${parsed.message}`, parsed.eventId);
      return undefined;
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
        name,
        `subject_mismatch: the body belongs on ${bodySubject}, it came on ${arrivedOn}`,
        eventId,
      );
      return undefined;
    }
    if (deliveryCount > settings.maxDeliver) {
      ctx.logger.error({ ...where, eventId }, "event ran out of deliveries without a verdict, dead-lettered");
      await settleDead(m, name, "no_verdict: the last delivery neither succeeded nor failed", eventId);
      return undefined;
    }
    const traceparent = m.headers?.get(TRACEPARENT) || undefined;
    return { event: parsed.event, ctx: { subject: m.subject, deliveryCount, traceparent, msg: m }, where };
  };

  /** The handler (or the batch handler) on these events, in a consumer span when tracing is on. */
  const invoke = async (items: readonly Admitted<T>[]): Promise<void> => {
    const first = items[0]!;
    const run =
      "each" in handling
        ? async () => await handling.each(first.event, first.ctx)
        : async () => await handling.batch(items);
    const parent = contextFromHeaders(first.ctx.msg.headers);
    if (!isTracingEnabled()) return context.with(parent, run);
    const info = {
      subject: first.ctx.subject,
      group: opts.durable,
      messageId: first.event.id,
      deliveryCount: first.ctx.deliveryCount,
      attributes: {
        [NEXUS_EVENT_TYPE]: first.event.type,
        ...(items.length > 1 ? { "messaging.batch.message_count": items.length } : {}),
      },
    };
    return withConsumerSpan(parent, info, run);
  };

  /** Keep the server from redelivering these while a handler works on them. */
  const keepAlive = (items: readonly Admitted<T>[]) =>
    setInterval(
      () => {
        for (const a of items) a.ctx.msg.working();
      },
      Math.max(500, settings.ackWaitMs / 2),
    );

  /** One event, alone: acknowledged, retried later, or dead-lettered. */
  const handleAlone = async (a: Admitted<T>, name: string): Promise<void> => {
    const m = a.ctx.msg;
    const eventId = a.event.id;
    const timer = keepAlive([a]);
    try {
      await invoke([a]);
      m.ack();
    } catch (err) {
      if (err instanceof EventRefusedError) {
        ctx.logger.warn(
          { ...a.where, eventId, code: err.code, reason: err.message },
          "event refused, dead-lettered",
        );
        await settleDead(m, name, `${err.code}: ${err.message}`, eventId);
      } else if (a.ctx.deliveryCount >= settings.maxDeliver) {
        ctx.logger.error({ ...a.where, eventId, err }, "handler failed on its last delivery, dead-lettered");
        await settleDead(m, name, `handler_failed: ${(err as Error)?.message ?? String(err)}`, eventId);
      } else {
        const delay = backoffFor(settings.backoffMs, a.ctx.deliveryCount);
        ctx.logger.warn({ ...a.where, eventId, err, retryInMs: delay }, "handler failed, will retry");
        m.nak(delay);
      }
    } finally {
      clearInterval(timer);
    }
  };

  /**
   * Messages delivered together: one handler call and one round of acks when it succeeds. When it
   * fails, nothing is acknowledged and each event goes through the handler again alone, so the
   * failing one gets its own retries or dead letter and the others apply.
   */
  const handleBatch = async (msgs: readonly JsMsg[], name: string): Promise<void> => {
    const admitted: Admitted<T>[] = [];
    for (const m of msgs) {
      const a = await admit(m, name);
      if (a) admitted.push(a);
    }
    if (admitted.length === 0) return;
    if (admitted.length > 1) {
      const timer = keepAlive(admitted);
      try {
        await invoke(admitted);
        for (const a of admitted) a.ctx.msg.ack();
        return;
      } catch (err) {
        ctx.logger.warn(
          { consumer: name, events: admitted.length, err },
          "a batch failed; handling its events one at a time",
        );
      } finally {
        clearInterval(timer);
      }
    }
    for (const a of admitted) await handleAlone(a, name);
  };

  async function settleDead(msg: JsMsg, name: string, reason: string, id: string | undefined): Promise<void> {
    try {
      await deadLetter(ctx, msg, { durable: opts.durable, consumer: name, reason, eventId: id });
      const code = reason.slice(0, Math.max(0, reason.indexOf(":"))) || "unknown";
      for (const o of ctx.observers) o.deadLettered?.(opts.durable, code);
      // No reason argument: NATS 2.9 does not parse `+TERM <reason>` and would redeliver.
      msg.term();
    } catch (err) {
      // Keep the event: a later delivery (the spare one, at worst) tries the dead-letter again.
      ctx.logger.error(
        { consumer: name, subject: msg.subject, streamSeq: msg.seq, err },
        "could not dead-letter an event, will retry",
      );
      msg.nak(backoffFor(settings.backoffMs, msg.info.deliveryCount));
    }
  }

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
          max_messages: Math.max(2, settings.concurrency * 2, settings.maxBatch * 2),
          abort_on_missing_resource: true,
          // Pull requests live 5 s (idle heartbeats every 2.5 s) instead of 30 s: when the NATS
          // node leading this durable dies, the client notices the silence and pulls from the
          // new leader within seconds rather than up to a minute later.
          expires: 5_000,
        });
        open.add(messages);
        if (stopping) messages.close();
        for await (const taken of batchesOf(messages, settings.maxBatch, settings.waitMs)) {
          // Buffered but not started: hand back at once so another instance takes it now
          // rather than after ack_wait.
          if (stopping) {
            for (const m of taken) m.nak();
            continue;
          }
          const p = handleBatch(taken, name).finally(() => inflight.delete(p));
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

/**
 * The messages in groups of at most `max`. With `waitMs` 0, what has already arrived: after each
 * message, the next is taken only if the iterator has it before the event loop turns. Otherwise
 * messages arriving within `waitMs` of a batch's first join it: at a few hundred events a second,
 * four consumers each handling one or two per wake-up cost the system about as much CPU as the
 * registry's write itself (test/bench/README.md (t)).
 */
async function* batchesOf(
  messages: AsyncIterable<JsMsg>,
  max: number,
  waitMs: number,
): AsyncGenerator<JsMsg[]> {
  const it = messages[Symbol.asyncIterator]();
  let ahead: Promise<IteratorResult<JsMsg>> | undefined;
  for (;;) {
    const first = await (ahead ?? it.next());
    ahead = undefined;
    if (first.done) return;
    const batch = [first.value];
    const until = waitMs > 0 ? afterMs(waitMs) : undefined;
    while (batch.length < max) {
      const next = it.next();
      const r = await Promise.race([next, until ?? afterThisTurn()]);
      if (r === undefined) {
        ahead = next;
        break;
      }
      if (r.done) {
        yield batch;
        return;
      }
      batch.push(r.value);
    }
    yield batch;
  }
}

const afterMs = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms));
const afterThisTurn = () => new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)));

function backoffFor(backoffMs: readonly number[], deliveryCount: number): number {
  return backoffMs[Math.min(deliveryCount - 1, backoffMs.length - 1)] ?? 1_000;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
