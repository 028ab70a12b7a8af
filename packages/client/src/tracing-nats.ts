import { headers, type MsgHdrs } from "@nats-io/transport-node";
import { context } from "@opentelemetry/api";
import { traceHeadersOf } from "./tracing.js";

/** NATS headers carrying a trace context; undefined when there is none to carry. */
export function natsHeaders(traceHeaders: Record<string, string>): MsgHdrs | undefined {
  const entries = Object.entries(traceHeaders);
  if (entries.length === 0) return undefined;
  const h = headers();
  for (const [k, v] of entries) h.set(k, v);
  return h;
}

/**
 * Request options carrying the active span's context (a traced pass's reads and rollout
 * questions), so the responder's SERVER span joins the trace; nothing without one.
 */
export function natsTraceHeaders(): { headers?: MsgHdrs } {
  const h = natsHeaders(traceHeadersOf(context.active()));
  return h ? { headers: h } : {};
}
