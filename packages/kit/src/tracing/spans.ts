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
import { MESSAGING_CONSUMER_GROUP_NAME, NEXUS_DELIVERY_COUNT, natsMessageAttributes } from "./semconv.js";

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
        ...natsMessageAttributes({
          subject: info.subject,
          operation: "send",
          operationName: "publish",
          messageId: info.messageId,
          bodySize: info.bodySize,
        }),
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
    ...natsMessageAttributes({
      subject: info.subject,
      operation: "process",
      operationName: "process",
      messageId: info.messageId || undefined,
    }),
    ...info.attributes,
  };
  if (info.group) attributes[MESSAGING_CONSUMER_GROUP_NAME] = info.group;
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

export interface CommandSpanInfo {
  /** The full (prefixed) subject the command goes to. */
  subject: string;
  bodySize: number;
  /** The queue group that shares the commands (server side). */
  group?: string;
}

function commandAttributes(info: CommandSpanInfo, operation: "send" | "process"): Attributes {
  const attributes: Attributes = natsMessageAttributes({
    subject: info.subject,
    operation,
    operationName: operation === "send" ? "request" : "reply",
    bodySize: info.bodySize,
  });
  if (info.group) attributes[MESSAGING_CONSUMER_GROUP_NAME] = info.group;
  return attributes;
}

/**
 * A CLIENT span (`request <subject>`) around a NATS request/reply command, a child of the active
 * context; `fn` gets the trace headers to send, so the responder's SERVER span is its child.
 */
export function withCommandClientSpan<T>(
  info: CommandSpanInfo,
  fn: (traceHeaders: Record<string, string>) => Promise<T>,
): Promise<T> {
  const parent = context.active();
  const span = tracer().startSpan(
    `request ${info.subject}`,
    { kind: SpanKind.CLIENT, attributes: commandAttributes(info, "send") },
    parent,
  );
  return inSpan(span, parent, async () => {
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), headers);
    return fn(headers);
  });
}

/**
 * A SERVER span (`process <subject>`) around a command's handler, a child of the requester's
 * span. `fn` returns the reply; an error reply names its code, and a 5xx marks the span failed
 * (as an HTTP server span would).
 */
export function withCommandServerSpan<T>(
  parent: Context,
  info: CommandSpanInfo,
  fn: () => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(
    `process ${info.subject}`,
    { kind: SpanKind.SERVER, attributes: commandAttributes(info, "process") },
    parent,
  );
  return inSpan(span, parent, async () => {
    const reply = await fn();
    const error = (reply as { ok?: unknown; error?: { statusCode?: number; code?: string } } | null)?.error;
    if ((reply as { ok?: unknown } | null)?.ok === false && error) {
      span.setAttribute("nexus.command.error_code", String(error.code));
      if ((error.statusCode ?? 500) >= 500)
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    }
    return reply;
  });
}

/**
 * The W3C traceparent of the active span, for work stored now and done later by a loop with no
 * context of its own (a delivery queue, a lease-held reconciler): it opens its span under it.
 * Undefined when no span is active (tracing off).
 */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

export interface WorkSpanOptions {
  /** The stored traceparent of what caused this work; a new trace when absent. */
  traceparent?: string | null | undefined;
  /** INTERNAL by default; CLIENT for work that calls out (a notification sent). */
  kind?: "internal" | "client";
  attributes?: Attributes;
}

/**
 * A span around one unit of work a loop does later on behalf of something stored earlier (a
 * delivery attempt, a drift evaluation, an alert transition, a backup step), in that thing's
 * trace. `fn` may add attributes to it; a throw marks it failed.
 */
export function inWorkSpan<T>(
  name: string,
  opts: WorkSpanOptions,
  fn: (span: Span) => T | Promise<T>,
): Promise<T> {
  const parent = workParent(opts);
  return inSpan(startWorkSpan(name, opts), parent, fn);
}

/**
 * The same span, started but not entered or ended: for work that spans several units at once
 * (one reconcile pass judging several changes, each in its own trace). The caller ends it.
 */
export function startWorkSpan(name: string, opts: WorkSpanOptions): Span {
  return tracer().startSpan(
    name,
    {
      kind: opts.kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL,
      ...(opts.attributes ? { attributes: opts.attributes } : {}),
    },
    workParent(opts),
  );
}

const workParent = (opts: WorkSpanOptions): Context =>
  opts.traceparent ? contextFromCarrier({ traceparent: opts.traceparent }) : context.active();

/** The traceparent that makes whatever carries it a child of `span` (undefined for a no-op span). */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}

/**
 * A runner for later work in the trace context active now: work queued by one request and run
 * from another's callback (a shared commit) then joins the trace it belongs to.
 */
export function bindActiveContext(): <T>(fn: () => T) => T {
  const active = context.active();
  return (fn) => context.with(active, fn);
}
