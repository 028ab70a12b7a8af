import {
  NEXUS_ENVIRONMENT,
  NEXUS_EVENT_TYPE,
  NEXUS_INSTANCE_ID,
  NEXUS_NAMESPACE,
  NEXUS_REVISION,
  NEXUS_SERVICE,
  natsMessageAttributes,
} from "@nexus/contracts";
import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TraceState,
  trace,
} from "@opentelemetry/api";
import { SDK_VERSION } from "./version.js";

/**
 * The SDK's spans, on `@opentelemetry/api` only: no-ops unless the application (or
 * `startOwnTracing`) registered an OpenTelemetry SDK. Nexus's wire format is the W3C
 * `traceparent` header (on NATS messages and HTTP reads), so the SDK reads and writes it itself
 * rather than through the globally registered propagator: with no SDK at all an applied-ack still
 * carries the trace of the change it applies, as the services expect.
 */
const tracer = () => trace.getTracer("@nexus/client", SDK_VERSION);

/** Who the spans are about: the instance and its (namespace, environment). */
export interface TraceIdentity {
  service: string;
  instanceId: string;
  namespace: string;
  environment: string;
}

export const identityAttributes = (id: TraceIdentity): Attributes => ({
  [NEXUS_SERVICE]: id.service,
  [NEXUS_INSTANCE_ID]: id.instanceId,
  [NEXUS_NAMESPACE]: id.namespace,
  [NEXUS_ENVIRONMENT]: id.environment,
});

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The context a W3C traceparent points into (ROOT when it is absent or malformed). */
export function contextOfTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  if (!m || m[1] === "ff" || (m[1] === "00" && m[5])) return ROOT_CONTEXT;
  const spanContext = {
    traceId: m[2] as string,
    spanId: m[3] as string,
    traceFlags: Number.parseInt(m[4] as string, 16) & 1,
    isRemote: true,
    ...(tracestate ? { traceState: rawTraceState(tracestate) } : {}),
  };
  return trace.isSpanContextValid(spanContext)
    ? trace.setSpanContext(ROOT_CONTEXT, spanContext)
    : ROOT_CONTEXT;
}

/** The `traceparent` (and `tracestate`) headers that make a message or request a child of `ctx`'s span. */
export function traceHeadersOf(ctx: Context): Record<string, string> {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return {};
  const headers: Record<string, string> = {
    traceparent: `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`,
  };
  const state = sc.traceState?.serialize();
  if (state) headers.tracestate = state;
  return headers;
}

/**
 * A CONSUMER span (`process <subject>`) around the receipt of a `config.changed`, a child of
 * the span that published it. `fn` runs inside it and gets its context, under which the apply
 * and the ack of that change continue.
 */
export function withReceiptSpan<T>(
  message: { subject: string; eventId: string; bodySize: number; traceparent?: string; tracestate?: string },
  attributes: Attributes,
  fn: (spanContext: Context, span: Span) => T,
): T {
  const parent = contextOfTraceparent(message.traceparent, message.tracestate);
  const span = tracer().startSpan(
    `process ${message.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...natsMessageAttributes({
          subject: message.subject,
          operation: "process",
          operationName: "process",
          messageId: message.eventId,
          bodySize: message.bodySize,
        }),
        [NEXUS_EVENT_TYPE]: "config.changed",
        ...attributes,
      },
    },
    parent,
  );
  const spanContext = trace.setSpan(parent, span);
  try {
    return context.with(spanContext, () => fn(spanContext, span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * An INTERNAL `apply config` span around one sync pass that serves an announced change or a
 * resync: the read (its trace headers go to the registry), the rollout question, the schema check
 * and the application's listeners (which run inside it, so their own spans and log lines join
 * it), the cache write. `fn` gets the span's context for the acks it queues.
 */
export async function inApplySpan<T>(
  parent: Context,
  attributes: Attributes,
  fn: (span: Span, spanContext: Context) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan("apply config", { kind: SpanKind.INTERNAL, attributes }, parent);
  const spanContext = trace.setSpan(parent, span);
  try {
    return await context.with(spanContext, () => fn(span, spanContext));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A PRODUCER span (`send <subject>`) around publishing one applied-ack (all its attempts), a
 * child of `parent` (the apply, or the receipt of the change it acknowledges; ROOT for an ack no
 * change caused). `fn` gets the trace headers to put on the message.
 */
export async function withAckSpan<T>(
  parent: Context,
  message: { subject: string; eventId: string; bodySize: number; revision: number; status: string },
  attributes: Attributes,
  fn: (traceHeaders: Record<string, string>, span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(
    `send ${message.subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...natsMessageAttributes({
          subject: message.subject,
          operation: "send",
          operationName: "publish",
          messageId: message.eventId,
          bodySize: message.bodySize,
        }),
        [NEXUS_EVENT_TYPE]: "config.applied",
        [NEXUS_REVISION]: message.revision,
        "nexus.config.status": message.status,
        ...attributes,
      },
    },
    parent,
  );
  try {
    return await fn(traceHeadersOf(trace.setSpan(parent, span)), span);
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

/** trace_id and span_id of the active span, for log lines (empty without one). */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/** A tracestate forwarded as received (the SDK neither reads nor changes its entries). */
function rawTraceState(serialized: string): TraceState {
  const self: TraceState = {
    set: () => self,
    unset: () => self,
    get: () => undefined,
    serialize: () => serialized,
  };
  return self;
}
