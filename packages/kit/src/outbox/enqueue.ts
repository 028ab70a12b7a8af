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
  return outboxInsertFrom(
    `json_to_recordset($${first}::json) AS r(id uuid, subject text, payload text, headers text)`,
    onlyIf,
  );
}

function outboxInsertFrom(source: string, onlyIf: string | undefined): string {
  return `INSERT INTO outbox (id, subject, payload, headers)
    SELECT r.id, r.subject, r.payload::jsonb, r.headers::jsonb
    FROM ${source}
    ${onlyIf ? `WHERE EXISTS (SELECT 1 FROM ${onlyIf})` : ""}
    RETURNING id, seq, subject`;
}

/** Parameters per event of `outboxValuesInsertSql`. */
export const OUTBOX_VALUE_PARAMS = 4;

/**
 * `outboxInsertSql` for `count` events given as plain parameters from `$first` on
 * (`outboxValueParams`), for a write of one or a few: each payload is parsed once, as jsonb,
 * where the JSON form has Postgres lex and un-escape it out of the outer text first. A statement
 * per count: name it by the count.
 */
export function outboxValuesInsertSql(first: number, count: number, onlyIf?: string): string {
  const rows = Array.from({ length: count }, (_, i) => {
    const p = first + i * OUTBOX_VALUE_PARAMS;
    return `($${p}::uuid, $${p + 1}::text, $${p + 2}::text, $${p + 3}::text)`;
  });
  return outboxInsertFrom(`(VALUES ${rows.join(", ")}) AS r(id, subject, payload, headers)`, onlyIf);
}

export const outboxValueParams = (rows: OutboxRows): unknown[] =>
  rows.ids.flatMap((id, i) => [id, rows.subjects[i], rows.payloads[i], rows.headers[i]]);

/**
 * Where an inserted row stands in its subject's order: its `seq`, and the ids of the rows of its
 * subject that were still unpublished when the inserting statement began (null: more than
 * `OUTBOX_EARLIER_LIMIT`). The relay publishes a handed-over row from memory only when it has
 * published each of those itself (`relay.handOver`), instead of asking the table after the commit.
 */
export interface OutboxPlace {
  id: string;
  seq: number;
  earlier: string[] | null;
}

export const OUTBOX_EARLIER_LIMIT = 100;

/**
 * A scalar subquery giving the `OutboxPlace`s (a JSON array) of the rows a CTE named `inserted`
 * (an `outboxInsertSql`) wrote, for the statement's result. The unpublished rows it lists are the
 * statement's snapshot: only a writer that holds its subjects' row lock (and would have seen any
 * concurrent writer of them move that row) gets a complete list this way; see order.ts.
 */
export function outboxPlacesSql(inserted: string): string {
  return `(SELECT COALESCE(json_agg(json_build_object('id', i.id, 'seq', i.seq, 'earlier',
      (SELECT CASE WHEN count(*) > ${OUTBOX_EARLIER_LIMIT} THEN NULL
                   ELSE COALESCE(array_agg(u.id ORDER BY u.seq), '{}') END
       FROM (SELECT o.id, o.seq FROM outbox o
             WHERE o.published_at IS NULL AND o.subject = i.subject AND o.seq < i.seq
             LIMIT ${OUTBOX_EARLIER_LIMIT + 1}) u))), '[]'::json)
    FROM ${inserted} i)`;
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
 * `enqueueEvents` that also answers each row's `OutboxPlace`, for `relay.handOver`. Complete only
 * for a caller holding the row lock every writer of these subjects takes and moves (order.ts).
 */
export async function enqueuePlacedEvents(client: Queryable, rows: OutboxRows): Promise<OutboxPlace[]> {
  if (rows.ids.length === 0) return [];
  const res = await client.query<{ places: OutboxPlace[] }>(
    `WITH inserted AS (${outboxInsertSql(1)}) SELECT ${outboxPlacesSql("inserted")} AS places`,
    outboxInsertParams(rows),
  );
  return res.rows[0]?.places ?? [];
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
