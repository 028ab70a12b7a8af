import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  MESSAGING_CONSUMER_GROUP_NAME,
  MESSAGING_DESTINATION_NAME,
  MESSAGING_MESSAGE_BODY_SIZE,
  MESSAGING_MESSAGE_ID,
  MESSAGING_OPERATION_NAME,
  MESSAGING_OPERATION_TYPE,
  MESSAGING_SYSTEM,
  MESSAGING_SYSTEM_NATS,
  NEXUS_DELIVERY_COUNT,
} from "./semconv.js";

/** Every Nexus span comes from this tracer (a no-op until startTracing registers an SDK). */
export const tracer = () => trace.getTracer("@nexus/kit");

/** Runs `fn` in `span`, ending it afterwards and marking it failed if `fn` throws. */
export async function inSpan<T>(span: Span, parent: Context, fn: (span: Span) => T | Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export function failSpan(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The context a stored or received traceparent/tracestate pair points into (ROOT without one). */
export function contextFromCarrier(carrier: Record<string, string | undefined>): Context {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(carrier)) if (v) clean[k] = v;
  return Object.keys(clean).length > 0 ? propagation.extract(ROOT_CONTEXT, clean) : ROOT_CONTEXT;
}

export interface ProducerSpanInfo {
  subject: string;
  messageId: string;
  bodySize: number;
  attributes?: Attributes;
}

/**
 * A PRODUCER span around one publish (`send <subject>`), a child of `parent`; `fn` gets the
 * trace headers to put on the message, so the consumer's span becomes this span's child.
 */
export function withProducerSpan<T>(
  parent: Context,
  info: ProducerSpanInfo,
  fn: (traceHeaders: Record<string, string>) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(
    `send ${info.subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [MESSAGING_SYSTEM]: MESSAGING_SYSTEM_NATS,
        [MESSAGING_DESTINATION_NAME]: info.subject,
        [MESSAGING_OPERATION_TYPE]: "send",
        [MESSAGING_OPERATION_NAME]: "publish",
        [MESSAGING_MESSAGE_ID]: info.messageId,
        [MESSAGING_MESSAGE_BODY_SIZE]: info.bodySize,
        ...info.attributes,
      },
    },
    parent,
  );
  return inSpan(span, parent, async () => {
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), headers);
    return fn(headers);
  });
}

export interface ConsumerSpanInfo {
  subject: string;
  /** The durable (JetStream) or queue group that shares the work; absent for a plain subscription. */
  group?: string;
  messageId?: string;
  deliveryCount?: number;
  attributes?: Attributes;
}

/** A CONSUMER span (`process <subject>`) around a handler, a child of the publisher's span. */
export function withConsumerSpan<T>(
  parent: Context,
  info: ConsumerSpanInfo,
  fn: () => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    [MESSAGING_SYSTEM]: MESSAGING_SYSTEM_NATS,
    [MESSAGING_DESTINATION_NAME]: info.subject,
    [MESSAGING_OPERATION_TYPE]: "process",
    [MESSAGING_OPERATION_NAME]: "process",
    ...info.attributes,
  };
  if (info.group) attributes[MESSAGING_CONSUMER_GROUP_NAME] = info.group;
  if (info.messageId) attributes[MESSAGING_MESSAGE_ID] = info.messageId;
  if (info.deliveryCount !== undefined) attributes[NEXUS_DELIVERY_COUNT] = info.deliveryCount;
  const span = tracer().startSpan(`process ${info.subject}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  return inSpan(span, parent, () => fn());
}

/** trace_id and span_id of the active span, for log lines (empty when there is none). */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
