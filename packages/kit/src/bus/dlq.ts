import type { JsMsg, PubAck } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { DLQ_HEADERS, headerValue } from "./headers.js";
import { dlqSubject } from "./names.js";
import type { BusContext } from "./types.js";

export interface DeadLetterInfo {
  /** Logical consumer: the dead-letter subject is `<prefix>.dlq.<durable>`. */
  durable: string;
  /** The JetStream durable that gave up. */
  consumer: string;
  reason: string;
  eventId?: string | undefined;
}

/**
 * Copy a message to the dead-letter stream unchanged (payload byte for byte, original headers),
 * with headers saying who gave up, why, and after how many deliveries.
 */
export async function deadLetter(
  ctx: Pick<BusContext, "js" | "prefix">,
  m: JsMsg,
  info: DeadLetterInfo,
): Promise<PubAck> {
  const h = natsHeaders();
  for (const [key, values] of m.headers ?? []) {
    // Nats-* headers belong to the original publish; Nats-Msg-Id in particular would make the
    // dead-letter stream drop this copy as a duplicate of another consumer's.
    if (key.toLowerCase().startsWith("nats-")) continue;
    for (const v of values) h.append(key, v);
  }
  h.set(DLQ_HEADERS.reason, headerValue(info.reason));
  h.set(DLQ_HEADERS.consumer, info.consumer);
  h.set(DLQ_HEADERS.deliveries, String(m.info.deliveryCount));
  h.set(DLQ_HEADERS.subject, m.subject);
  h.set(DLQ_HEADERS.streamSeq, String(m.seq));
  if (info.eventId) h.set(DLQ_HEADERS.eventId, info.eventId);
  return ctx.js.publish(dlqSubject(ctx.prefix, info.durable), m.data, {
    headers: h,
    // Re-dead-lettering the same delivery after a crash is then a no-op.
    msgID: `${info.consumer}:${m.seq}`,
  });
}
