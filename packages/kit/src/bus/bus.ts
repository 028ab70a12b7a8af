import { JetStreamApiCodes, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { EventType } from "@nexus/contracts";
import { context, trace } from "@opentelemetry/api";
import { NEXUS_EVENT_TYPE } from "../tracing/semconv.js";
import { contextFromCarrier, withConsumerSpan, withProducerSpan } from "../tracing/spans.js";
import { isTracingEnabled } from "../tracing/tracing.js";
import { requestCommand, serveCommand } from "./commands.js";
import { startConsuming } from "./consume.js";
import { dropDurables } from "./durables.js";
import { buildEnvelope, canonicalSubjectFor, parseEvent } from "./envelope.js";
import { contextFromHeaders, MSG_ID, TRACEPARENT, toMsgHdrs, traceHeaders } from "./headers.js";
import { assertPrefix, CANONICAL_ROOT, prefixSubject, streamNames } from "./names.js";
import { consumerStats, deadLetterCounts } from "./stats.js";
import { ensureStreams, isApiError, type StreamOptions } from "./streams.js";
import type { Bus, BusContext, BusLogger, LiveEventHandler, Stoppable, SubscribeOptions } from "./types.js";

export interface BusConfig {
  nc: NatsConnection;
  /** Replaces the leading `nexus` of every subject and names the streams. Default `nexus`. */
  prefix?: string;
  /** CloudEvents `source` of everything this bus publishes, e.g. `nexus/config-registry`. */
  source: string;
  logger: BusLogger;
  /** JetStream API timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Replicas of the streams this bus creates (NATS_STREAM_REPLICAS): 3 on a three-node cluster. */
  streamReplicas?: number;
  /** `consumeBatches`' default `waitMs` (EVENT_BATCH_WAIT_MS). Default 0: no wait. */
  batchWaitMs?: number;
}

/**
 * The typed bus: every event published is built from the catalog and validated first, every
 * event received is validated before a handler sees it, and trace context rides in headers.
 */
export function createBus(config: BusConfig): Bus {
  const prefix = config.prefix ?? CANONICAL_ROOT;
  assertPrefix(prefix);
  const js = jetstream(config.nc, { timeout: config.timeoutMs ?? 5_000 });
  let jsm: Promise<JetStreamManager> | undefined;
  const defaults: StreamOptions = config.streamReplicas ? { replicas: config.streamReplicas } : {};
  let streamOptions: StreamOptions = defaults;
  const ensure = async () => {
    const names = await ensureStreams(await ctx.jsm(), prefix, streamOptions);
    config.logger.debug({ streams: names }, "JetStream streams are in place");
    return names;
  };
  const ctx: BusContext = {
    nc: config.nc,
    js,
    jsm: () => {
      jsm ??= jetstreamManager(config.nc, { timeout: config.timeoutMs ?? 5_000 }).catch((err) => {
        jsm = undefined;
        throw err;
      });
      return jsm;
    },
    prefix,
    source: config.source,
    logger: config.logger,
    streams: streamNames(prefix),
    ensureStreams: ensure,
    consumers: new Map(),
    observers: new Set(),
  };

  const bus: Bus = {
    prefix,
    source: config.source,
    streams: ctx.streams,
    subject: (canonical) => prefixSubject(prefix, canonical),
    subjectFor: (type, data) => prefixSubject(prefix, canonicalSubjectFor(type, data)),
    envelope: (type, data, opts) => buildEnvelope(type, data, config.source, opts),

    ensureStreams(options) {
      if (options) streamOptions = { ...defaults, ...options };
      return ensure();
    },

    async eventStreamCreated() {
      try {
        return (await (await ctx.jsm()).streams.info(ctx.streams.events)).created;
      } catch (err) {
        if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return null;
        throw err;
      }
    },

    async publish(type, data, opts = {}) {
      const event = buildEnvelope(type, data, config.source, opts.envelope);
      const subject = prefixSubject(prefix, canonicalSubjectFor(type, event.data));
      const json = JSON.stringify(event);
      const msgID = opts.msgId ?? event.id;
      if (!isTracingEnabled()) {
        const ack = await js.publish(subject, json, {
          msgID,
          headers: toMsgHdrs(traceHeaders(opts.traceparent)),
        });
        return { event, ack };
      }
      // The active span is the parent; else the caller's traceparent (work started elsewhere).
      const parent = trace.getActiveSpan()
        ? context.active()
        : contextFromCarrier({ [TRACEPARENT]: opts.traceparent });
      const info = {
        subject,
        messageId: event.id,
        bodySize: json.length,
        attributes: { [NEXUS_EVENT_TYPE]: type },
      };
      const ack = await withProducerSpan(parent, info, (headers) =>
        js.publish(subject, json, { msgID, headers: toMsgHdrs(headers) }),
      );
      return { event, ack };
    },

    publishEnvelope(subject, envelope, headers = {}) {
      return bus.publishSerialized(subject, envelope.id, JSON.stringify(envelope), headers);
    },

    publishSerialized(subject, id, json, headers = {}) {
      const full = prefixSubject(prefix, subject);
      if (!isTracingEnabled()) return js.publish(full, json, { msgID: id, headers: toMsgHdrs(headers) });
      // The outbox relay's path: the parent is the trace stored with the row (the request that
      // wrote it), not whatever the relay happens to be doing.
      const info = { subject: full, messageId: id, bodySize: json.length };
      return withProducerSpan(contextFromCarrier(headers), info, (trace) =>
        js.publish(full, json, { msgID: id, headers: toMsgHdrs({ ...headers, ...trace }) }),
      );
    },

    consume(types, opts, handler) {
      return startConsuming(ctx, typeof types === "string" ? [types] : types, opts, { each: handler });
    },

    consumeBatches(types, opts, handler) {
      const max = Math.max(1, opts.maxBatch ?? 100);
      const waitMs = Math.max(0, opts.waitMs ?? config.batchWaitMs ?? 0);
      return startConsuming(ctx, typeof types === "string" ? [types] : types, opts, {
        batch: handler,
        max,
        waitMs,
      });
    },

    subscribe(type, opts, handler) {
      return subscribeLive(ctx, type, opts, handler);
    },

    dropDurables: (durable, types) => dropDurables(ctx, durable, types),

    serveCommand: (opts) => serveCommand(ctx, opts),
    requestCommand: (subject, body, replySchema, timeoutMs) =>
      requestCommand(ctx, subject, body, replySchema, timeoutMs),
    consumerStats: () => consumerStats(ctx),
    deadLetterCounts: (durables) => deadLetterCounts(ctx, durables),
    observe(observer) {
      ctx.observers.add(observer);
      return () => void ctx.observers.delete(observer);
    },
  };
  return bus;
}

/** Core NATS (no JetStream, nothing stored): for live watchers that tolerate gaps. */
function subscribeLive<T extends EventType>(
  ctx: BusContext,
  type: T,
  opts: SubscribeOptions,
  handler: LiveEventHandler<T>,
): Stoppable {
  const subject = prefixSubject(ctx.prefix, opts.subjectFilter ?? `${type}.>`);
  const skipId = opts.skipId;
  const sub = ctx.nc.subscribe(subject);
  const expected = new Set<string>([type]);
  const loop = (async () => {
    for await (const m of sub) {
      if (skipId) {
        const id = m.headers?.get(MSG_ID);
        if (id && skipId(id)) continue;
      }
      const parsed = parseEvent<T>(m.data, expected);
      if (!parsed.ok) {
        ctx.logger.warn(
          { subject: m.subject, reason: parsed.reason, error: parsed.message },
          "ignored an invalid event",
        );
        continue;
      }
      try {
        const traceparent = m.headers?.get(TRACEPARENT) || undefined;
        const run = async () => await handler(parsed.event, { subject: m.subject, traceparent, msg: m });
        if (!isTracingEnabled()) await run();
        else {
          const info = {
            subject: m.subject,
            messageId: parsed.event.id,
            attributes: { [NEXUS_EVENT_TYPE]: type },
          };
          await withConsumerSpan(contextFromHeaders(m.headers), info, run);
        }
      } catch (err) {
        ctx.logger.error({ subject: m.subject, eventId: parsed.event.id, err }, "live event handler failed");
      }
    }
  })();
  return {
    async stop() {
      if (!sub.isClosed()) await sub.drain();
      await loop;
    },
  };
}
