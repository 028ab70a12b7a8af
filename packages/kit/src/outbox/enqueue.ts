import type { EventData, EventType } from "@nexus/contracts";
import type { EnvelopeOptions, EventOf } from "../bus/envelope.js";
import { traceHeaders } from "../bus/headers.js";
import type { Bus } from "../bus/types.js";
import type { Queryable } from "../db/pool.js";

/** Channel the relay LISTENs on. Per database; a service may pick its own to wake only its relay. */
export const DEFAULT_OUTBOX_CHANNEL = "nexus_outbox";

export interface EnqueueOptions {
  /** Used when no OpenTelemetry span is active. */
  traceparent?: string;
  channel?: string;
  envelope?: EnvelopeOptions;
}

/**
 * Record an event in the caller's transaction. It is validated now (an invalid event fails the
 * write, not the relay), and becomes visible to the relay only if the transaction commits, which
 * is also when Postgres delivers the NOTIFY that wakes the relay.
 */
export async function enqueueEvent<T extends EventType>(
  client: Queryable,
  bus: Pick<Bus, "envelope" | "subjectFor">,
  type: T,
  data: EventData<T>,
  opts: EnqueueOptions = {},
): Promise<EventOf<T>> {
  const event = bus.envelope(type, data, opts.envelope);
  const subject = bus.subjectFor(type, data);
  await client.query(
    `WITH inserted AS (
       INSERT INTO outbox (id, subject, payload, headers) VALUES ($1, $2, $3, $4) RETURNING 1
     )
     SELECT pg_notify($5, '') FROM inserted`,
    [event.id, subject, event, traceHeaders(opts.traceparent), opts.channel ?? DEFAULT_OUTBOX_CHANNEL],
  );
  return event;
}
