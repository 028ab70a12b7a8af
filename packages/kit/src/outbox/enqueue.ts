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
  /**
   * Where the commit put them (`outboxPlacementSql`): lets the relay publish handed-over rows
   * without asking Postgres where they stand. Absent: the relay asks (`orderHandedRows`).
   */
  placement?: OutboxPlacement | undefined;
}

/**
 * What a commit that inserted outbox rows saw: each row's `seq`, and the unpublished rows of the
 * same subjects that were committed before it (so come first in each subject's order), or null
 * when there were more than `MAX_EARLIER` of them.
 */
export interface OutboxPlacement {
  seqs: Record<string, string>;
  earlier: string[] | null;
}

/** More earlier rows than this: the relay reads the table instead (it is behind anyway). */
export const MAX_EARLIER = 100;

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
export function outboxInsertSql(first: number, onlyIf?: string, returning = false): string {
  return `INSERT INTO outbox (id, subject, payload, headers)
    SELECT r.id, r.subject, r.payload::jsonb, r.headers::jsonb
    FROM json_to_recordset($${first}::json) AS r(id uuid, subject text, payload text, headers text)
    ${onlyIf ? `WHERE EXISTS (SELECT 1 FROM ${onlyIf})` : ""}${returning ? " RETURNING id, seq" : ""}`;
}

/**
 * An output column (JSON, `OutboxPlacement`) for a statement whose CTE `events` is
 * `outboxInsertSql(first, …, true)`. Its `earlier` reads the statement's snapshot, which holds every
 * row of these subjects committed before this one, as long as writers of a subject hold a row lock
 * from before their insert to their commit and the statement applies only if nothing committed
 * under that lock since it was read (see order.ts). The statement's own rows are not in it.
 */
export function outboxPlacementSql(events: string, first: number): string {
  return `json_build_object(
    'seqs', (SELECT COALESCE(json_object_agg(e.id, e.seq::text), '{}'::json) FROM ${events} e),
    'earlier', ARRAY(SELECT o.id::text FROM outbox o
      WHERE o.published_at IS NULL
        AND o.subject IN (SELECT r.subject FROM json_to_recordset($${first}::json) AS r(subject text))
      ORDER BY o.seq LIMIT ${MAX_EARLIER + 1}))`;
}

/** The placement column as the driver returns it. */
export function parseOutboxPlacement(raw: {
  seqs: Record<string, string>;
  earlier: string[];
}): OutboxPlacement {
  return { seqs: raw.seqs, earlier: raw.earlier.length > MAX_EARLIER ? null : raw.earlier };
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
