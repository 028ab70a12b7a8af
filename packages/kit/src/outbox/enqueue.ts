import type { EventData, EventType } from "@nexus/contracts";
import type { EnvelopeOptions, EventOf } from "../bus/envelope.js";
import { traceHeaders } from "../bus/headers.js";
import type { Bus } from "../bus/types.js";
import type { Queryable } from "../db/pool.js";

/** Channel the relay LISTENs on. Per database; a service may pick its own to wake only its relay. */
export const DEFAULT_OUTBOX_CHANNEL = "nexus_outbox";

export interface EnqueueOptions {
  /** Used when no OpenTelemetry span is active. */
  traceparent?: string | undefined;
  channel?: string;
  envelope?: EnvelopeOptions;
}

/** Events ready to be inserted into the outbox, one array per column (for `unnest`). */
export interface OutboxRows {
  ids: string[];
  subjects: string[];
  /** JSON text of each CloudEvent. */
  payloads: string[];
  /** JSON text of each event's NATS headers. */
  headers: string[];
}

/**
 * Wrap events in their envelope and subject, validating each now: an invalid event fails the
 * write, not the relay.
 */
export function prepareOutboxRows<T extends EventType>(
  bus: Pick<Bus, "envelope" | "subjectFor">,
  type: T,
  dataList: readonly EventData<T>[],
  opts: Omit<EnqueueOptions, "channel"> = {},
): OutboxRows {
  const rows: OutboxRows = { ids: [], subjects: [], payloads: [], headers: [] };
  const headers = JSON.stringify(traceHeaders(opts.traceparent));
  for (const data of dataList) {
    const event = bus.envelope(type, data, opts.envelope);
    rows.ids.push(event.id);
    rows.subjects.push(bus.subjectFor(type, data));
    rows.payloads.push(JSON.stringify(event));
    rows.headers.push(headers);
  }
  return rows;
}

/**
 * The INSERT for prepared rows, taking them as one JSON parameter `$first`, so a service can put
 * it in a data-modifying CTE of its own write (one round trip instead of two). `onlyIf` names a
 * CTE that must have returned a row for the events to be written. One JSON text rather than an
 * array per column: the driver writes a Postgres array literal by escaping every element in
 * JavaScript, which cost more than the rest of the insert for event-sized payloads.
 */
export function outboxInsertSql(first: number, onlyIf?: string): string {
  return `INSERT INTO outbox (id, subject, payload, headers)
    SELECT r.id, r.subject, r.payload::jsonb, r.headers::jsonb
    FROM json_to_recordset($${first}::json) AS r(id uuid, subject text, payload text, headers text)
    ${onlyIf ? `WHERE EXISTS (SELECT 1 FROM ${onlyIf})` : ""}`;
}

/** How many parameters `outboxInsertSql` takes. */
export const OUTBOX_INSERT_PARAMS = 1;

export const outboxInsertParams = (rows: OutboxRows): unknown[] => [
  JSON.stringify(
    rows.ids.map((id, i) => ({
      id,
      subject: rows.subjects[i],
      payload: rows.payloads[i],
      headers: rows.headers[i],
    })),
  ),
];

/**
 * Record prepared events in the caller's transaction, without a NOTIFY: after COMMIT the caller
 * calls `relay.wake()`. (A NOTIFY inside the transaction takes a database-wide lock at commit,
 * which serialises concurrent writers' commits and so their fsyncs.)
 */
export async function enqueueEvents(client: Queryable, rows: OutboxRows): Promise<void> {
  if (rows.ids.length === 0) return;
  await client.query(outboxInsertSql(1), outboxInsertParams(rows));
}

/**
 * Record one event in the caller's transaction and wake the relay through a NOTIFY that Postgres
 * delivers at commit. Simple, and right for services that write events now and then; a hot write
 * path should use `prepareOutboxRows` + `enqueueEvents` + `relay.wake()` instead.
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
