import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import { type Context, context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";

export const TRACEPARENT = "traceparent";
export const TRACESTATE = "tracestate";
export const MSG_ID = "Nats-Msg-Id";

export const DLQ_HEADERS = {
  reason: "Nexus-Dlq-Reason",
  consumer: "Nexus-Dlq-Consumer",
  deliveries: "Nexus-Dlq-Deliveries",
  subject: "Nexus-Dlq-Subject",
  streamSeq: "Nexus-Dlq-Stream-Seq",
  eventId: "Nexus-Dlq-Event-Id",
} as const;

/**
 * Trace headers for an outgoing message: the active OpenTelemetry span wins (when an SDK and a
 * propagator are installed), then the caller's own traceparent, else none.
 */
export function traceHeaders(fallback?: string): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (carrier[TRACEPARENT]) return pick(carrier, [TRACEPARENT, TRACESTATE]);
  return fallback ? { [TRACEPARENT]: fallback } : {};
}

/** The OpenTelemetry context a handler runs in, so its spans join the publisher's trace. */
export function contextFromHeaders(hdrs: MsgHdrs | undefined): Context {
  const tp = hdrs?.get(TRACEPARENT);
  if (!tp) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { [TRACEPARENT]: tp };
  const ts = hdrs?.get(TRACESTATE);
  if (ts) carrier[TRACESTATE] = ts;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Header values may not carry line breaks; error messages sometimes do. */
export function headerValue(v: string, max = 500): string {
  const flat = v.replace(/[\r\n]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

export function toMsgHdrs(record: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(record)) if (v !== "") h.set(k, headerValue(v, 4_000));
  return h;
}

function pick(record: Record<string, string>, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (record[k]) out[k] = record[k];
  return out;
}
