import type { JetStreamClient, JetStreamManager, JsMsg, PubAck } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { CloudEvent, EventData, EventType } from "@nexus/contracts";
import type { z } from "zod";
import type { Logger } from "../logger.js";
import type { EnvelopeOptions, EventOf } from "./envelope.js";
import type { StreamNames } from "./names.js";
import type { StreamOptions } from "./streams.js";

export type BusLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

/** What the parts of the bus share; built once by createBus. */
export interface BusContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm(): Promise<JetStreamManager>;
  prefix: string;
  source: string;
  logger: BusLogger;
  streams: StreamNames;
  /** Create or update the streams with the options last given to `Bus.ensureStreams`. */
  ensureStreams(): Promise<StreamNames>;
  /** JetStream durables this bus consumes now → their logical consumer name. */
  consumers: Map<string, string>;
  observers: Set<BusObserver>;
}

/** Told of what consumers do (for metrics); must not throw or block. */
export interface BusObserver {
  /** An event went to the dead-letter stream; `reason` is the reason's code (`handler_failed`, …). */
  deadLettered?(durable: string, reason: string): void;
  /** A delivery after the first of an event (a handler failed, or its ack came too late). */
  redelivered?(durable: string): void;
}

/** One durable's counts as the server keeps them. */
export interface ConsumerStats {
  /** Logical consumer name (`ConsumeOptions.durable`). */
  durable: string;
  /** The JetStream durable (one per filter subject). */
  consumer: string;
  /** In the stream, not yet delivered to this durable. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  /** Delivered more than once and not yet acknowledged. */
  redelivered: number;
}

export interface PublishOptions {
  /** JetStream dedup key; defaults to the event id. Set it to make retries of one publish idempotent. */
  msgId?: string;
  /** Used when no OpenTelemetry span is active. */
  traceparent?: string;
  envelope?: EnvelopeOptions;
}

export interface PublishResult<T extends EventType> {
  event: EventOf<T>;
  ack: PubAck;
}

export interface EventContext {
  /** The NATS subject, with this bus's prefix. */
  subject: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  traceparent: string | undefined;
  msg: JsMsg;
}

export type EventHandler<T extends EventType> = (
  event: EventOf<T>,
  ctx: EventContext,
) => Promise<void> | void;

/** One event of a batch, with where it came from. */
export interface BatchItem<T extends EventType> {
  event: EventOf<T>;
  ctx: EventContext;
}

/**
 * Several events at once, in stream order, all acknowledged when it returns. It must be all or
 * nothing (one transaction, or idempotent parts): when it throws, the kit hands each event to it
 * again alone, so one bad event is retried or dead-lettered by itself and the others still apply.
 */
export type BatchHandler<T extends EventType> = (items: readonly BatchItem<T>[]) => Promise<void>;

export interface ConsumeOptions {
  /** Logical consumer name; each filter subject gets its own durable `<durable>-<subject tokens>`. */
  durable: string;
  /** Deliveries before a failing event goes to the dead-letter stream. Default 5. */
  maxDeliver?: number;
  /** Redelivery delay after the n-th failure (the last value repeats). Default 1s, 5s, 15s, 30s. */
  backoffMs?: readonly number[];
  /** Time a handler has before the server redelivers; long handlers are kept alive. Default 30s. */
  ackWaitMs?: number;
  /** Narrower subjects (canonical `nexus.` or prefixed) instead of one `<type>.>` per type. */
  filterSubjects?: readonly string[];
  /** Handlers in flight per durable. Default 1, which keeps the stream's order. */
  concurrency?: number;
  /** Where a newly created durable starts. Default `all` (everything the stream still holds). */
  deliverPolicy?: "all" | "new";
  /** A newly created durable starts at events stored from this time on (overrides `deliverPolicy`). */
  startAt?: Date;
  /** Server-side cap on unacknowledged messages per durable. Default 1000. */
  maxAckPending?: number;
  /**
   * Logical consumer names this one takes over (a service that merged several durables on the same
   * subjects into one). At start, a durable of theirs on the same filter is deleted; when this
   * durable does not exist yet, it is created to start after the lowest point those had
   * acknowledged, so nothing is skipped and little is seen twice.
   */
  replaces?: readonly string[];
}

export interface BatchConsumeOptions extends ConsumeOptions {
  /** Most events handed to the handler at once. Default 100. */
  maxBatch?: number;
  /**
   * After the first event of a batch, how long to wait for more (up to `maxBatch`) before handling
   * them: fewer, larger batches, each one handler call and one round of acks, for this much
   * latency. 0 takes only what has already arrived. Default: the bus's `batchWaitMs`
   * (EVENT_BATCH_WAIT_MS in services), else 0.
   */
  waitMs?: number;
}

export interface Consumption {
  /** Durable names created or bound, one per filter subject. */
  readonly durables: readonly string[];
  /** Stop pulling, hand back buffered messages, and wait for handlers in flight. */
  stop(): Promise<void>;
}

export interface LiveEventContext {
  subject: string;
  traceparent: string | undefined;
  msg: Msg;
}

export type LiveEventHandler<T extends EventType> = (
  event: EventOf<T>,
  ctx: LiveEventContext,
) => Promise<void> | void;

export interface SubscribeOptions {
  /** Narrower subject than `<type>.>`, e.g. `nexus.config.changed.production.>`. */
  subjectFilter?: string;
  /**
   * Called with each message's `Nats-Msg-Id` (the event id) before it is parsed; true drops it
   * unread. For a process that hears its own events and has nothing to do for them.
   */
  skipId?: (eventId: string) => boolean;
}

export interface Stoppable {
  stop(): Promise<void>;
}

/** The `ok:false` branch of every command reply. */
export interface CommandError {
  statusCode: number;
  code: string;
  message: string;
  field?: string;
  details?: unknown;
}

export interface CommandContext {
  subject: string;
  traceparent: string | undefined;
  msg: Msg;
}

export interface ServeCommandOptions<Req extends z.ZodType, Rep extends z.ZodType> {
  subject: string;
  request: Req;
  reply: Rep;
  /** Queue group: one instance of the service answers each request. */
  queue: string;
  /**
   * Largest request body answered (bytes); past it the reply is 413 `payload_too_large` before
   * anything is parsed. Default `COMMAND_MAX_BYTES`; commands carrying a whole document raise it.
   */
  maxRequestBytes?: number;
  /**
   * The reply, checked against `reply` and serialised here; or an `EncodedReply` made earlier with
   * `encodeReply` (checked and serialised once, then sent as is: many requests for one answer).
   */
  handler: (request: z.infer<Req>, ctx: CommandContext) => Promise<z.infer<Rep> | EncodedReply<Rep>>;
}

declare const encodedFor: unique symbol;

/** A command reply already checked against its schema and serialised (see `encodeReply`). */
export class EncodedReply<Rep extends z.ZodType = z.ZodType> {
  declare readonly [encodedFor]: Rep;
  constructor(readonly json: string) {}
}

export interface Bus {
  readonly prefix: string;
  readonly source: string;
  readonly streams: StreamNames;
  /** A canonical `nexus.` subject under this bus's prefix. */
  subject(canonical: string): string;
  subjectFor<T extends EventType>(type: T, data: EventData<T>): string;
  envelope<T extends EventType>(type: T, data: EventData<T>, opts?: EnvelopeOptions): EventOf<T>;
  /**
   * Create or update the streams; the options are remembered, so a later call without them (a
   * consumer or relay recreating a stream lost with a JetStream store) builds the same streams.
   */
  ensureStreams(options?: StreamOptions): Promise<StreamNames>;
  /**
   * When the events stream was created (the server's timestamp), or null when it does not exist: a
   * new value means the stream, and everything it held, was lost and made again.
   */
  eventStreamCreated(): Promise<string | null>;
  publish<T extends EventType>(type: T, data: EventData<T>, opts?: PublishOptions): Promise<PublishResult<T>>;
  publishEnvelope(
    subject: string,
    envelope: CloudEvent<unknown>,
    headers?: Record<string, string>,
  ): Promise<PubAck>;
  /** An envelope validated and serialised earlier (the outbox keeps its JSON text). */
  publishSerialized(
    subject: string,
    id: string,
    json: string,
    headers?: Record<string, string>,
  ): Promise<PubAck>;
  consume<T extends EventType>(
    types: T | readonly T[],
    opts: ConsumeOptions,
    handler: EventHandler<T>,
  ): Promise<Consumption>;
  /** Like `consume`, but the handler gets the events already delivered together (see `BatchHandler`). */
  consumeBatches<T extends EventType>(
    types: T | readonly T[],
    opts: BatchConsumeOptions,
    handler: BatchHandler<T>,
  ): Promise<Consumption>;
  subscribe<T extends EventType>(type: T, opts: SubscribeOptions, handler: LiveEventHandler<T>): Stoppable;
  /** Delete a logical consumer's durables for these types (gone already is fine); returns the names deleted. */
  dropDurables(durable: string, types: readonly EventType[]): Promise<string[]>;
  serveCommand<Req extends z.ZodType, Rep extends z.ZodType>(opts: ServeCommandOptions<Req, Rep>): Stoppable;
  requestCommand<Rep extends z.ZodType>(
    subject: string,
    body: unknown,
    replySchema: Rep,
    timeoutMs?: number,
  ): Promise<z.infer<Rep>>;
  /** The server's counts for every durable this bus consumes now (asked per call: metrics). */
  consumerStats(): Promise<ConsumerStats[]>;
  /** Messages in the dead-letter stream for each of these logical consumers. */
  deadLetterCounts(durables: readonly string[]): Promise<Map<string, number>>;
  /** Be told of dead letters and redeliveries handled in this process; returns the way to stop. */
  observe(observer: BusObserver): () => void;
}
