import { randomUUID } from "node:crypto";
import type { Queryable } from "@nexus/kit";
import type { NotificationMessage } from "../receivers/message-types.js";
import { titleOf } from "../receivers/text-fns.js";
import type { DeliveryDto, NewDelivery } from "./delivery-types.js";

export interface DeliveryRow {
  id: string;
  receiver: string;
  receiver_type: string;
  group_key: string | null;
  action: string;
  dedup_key: string;
  fingerprints: string[];
  message: NotificationMessage;
  status: DeliveryDto["status"];
  attempts: number;
  max_attempts: number;
  next_attempt_at: Date;
  claimed_until: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  dead_reason: string | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
  trace_parent: string | null;
}

export const toDeliveryDto = (r: DeliveryRow): DeliveryDto => ({
  id: r.id,
  receiver: r.receiver,
  receiverType: r.receiver_type,
  groupKey: r.group_key,
  action: r.action,
  dedupKey: r.dedup_key,
  fingerprints: r.fingerprints,
  status: r.status,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  nextAttemptAt: r.status === "pending" ? r.next_attempt_at.toISOString() : null,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  deadReason: r.dead_reason,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  deliveredAt: r.delivered_at?.toISOString() ?? null,
  title: titleOf(r.message),
});

export type Mark =
  | { status: "delivered"; statusCode: number | null }
  | {
      status: "pending";
      /** Added to the database's clock: `now()` in the statement, never this process's. */
      retryInMs: number;
      statusCode: number | null;
      error: string | null;
      countAttempt: boolean;
    }
  | { status: "dead"; statusCode: number | null; error: string | null; reason: string };

export function createDeliveryStore() {
  return {
    async insert(q: Queryable, list: readonly NewDelivery[], maxAttempts: number): Promise<string[]> {
      if (list.length === 0) return [];
      const ids = list.map(() => randomUUID());
      await q.query(
        `INSERT INTO deliveries (id, receiver, receiver_type, group_key, action, dedup_key, fingerprints, message,
           status, max_attempts, trace_parent)
         SELECT id, receiver, receiver_type, group_key, action, dedup_key,
           ARRAY(SELECT jsonb_array_elements_text(fps)), message, 'pending', $9, trace_parent
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[],
           $10::text[])
           AS t(id, receiver, receiver_type, group_key, action, dedup_key, fps, message, trace_parent)`,
        [
          ids,
          list.map((d) => d.receiver),
          list.map((d) => d.receiverType),
          list.map((d) => d.groupKey),
          list.map((d) => d.action),
          list.map((d) => d.dedupKey),
          list.map((d) => JSON.stringify(d.fingerprints)),
          list.map((d) => JSON.stringify(d.message)),
          maxAttempts,
          list.map((d) => d.traceParent ?? null),
        ],
      );
      return ids;
    },

    /**
     * Take due rows: pending ones whose time came, and rows another worker claimed but never
     * marked before its lease ran out (it crashed mid-send). Each claim counts as an attempt.
     */
    async claim(q: Queryable, limit: number, leaseMs: number): Promise<DeliveryRow[]> {
      const res = await q.query<DeliveryRow>(
        `UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, updated_at = now(),
           claimed_until = now() + make_interval(secs => $2::int / 1000.0)
         WHERE d.id IN (
           SELECT id FROM deliveries
           WHERE (status = 'pending' AND next_attempt_at <= now()) OR (status = 'sending' AND claimed_until < now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING d.*`,
        [limit, leaseMs],
      );
      return res.rows;
    },

    /** Record an attempt's result; only the claimant's row in `sending` is changed. */
    async mark(q: Queryable, id: string, m: Mark): Promise<boolean> {
      const res = await q.query(
        `UPDATE deliveries SET status = $2, claimed_until = NULL, updated_at = now(),
           last_status_code = $3, last_error = $4,
           next_attempt_at = COALESCE(now() + make_interval(secs => $5::float8 / 1000), next_attempt_at),
           attempts = attempts - CASE WHEN $6 THEN 0 ELSE 1 END,
           dead_reason = $7,
           delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
         WHERE id = $1 AND status = 'sending'`,
        [
          id,
          m.status,
          m.statusCode,
          m.status === "delivered" ? null : m.error,
          m.status === "pending" ? m.retryInMs : null,
          m.status === "pending" ? m.countAttempt : true,
          m.status === "dead" ? m.reason : null,
        ],
      );
      return res.rowCount === 1;
    },

    /** The queue per receiver type: deliveries waiting or being sent, and the oldest one's age (metrics). */
    async queueByType(q: Queryable): Promise<{ receiver_type: string; n: number; age_seconds: number }[]> {
      const res = await q.query(
        `SELECT receiver_type, count(*)::int AS n,
                extract(epoch FROM now() - min(created_at))::float8 AS age_seconds
         FROM deliveries WHERE status IN ('pending', 'sending') GROUP BY receiver_type`,
      );
      return res.rows;
    },

    async nextDueAt(q: Queryable): Promise<Date | null> {
      const res = await q.query<{ at: Date | null }>(
        `SELECT min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE claimed_until END) AS at
         FROM deliveries WHERE status IN ('pending', 'sending')`,
      );
      return res.rows[0]?.at ?? null;
    },

    async find(q: Queryable, id: string): Promise<DeliveryRow | null> {
      const res = await q.query<DeliveryRow>("SELECT * FROM deliveries WHERE id = $1", [id]);
      return res.rows[0] ?? null;
    },

    async list(
      q: Queryable,
      f: {
        status?: string | undefined;
        receiver?: string | undefined;
        fingerprint?: string | undefined;
        limit: number;
      },
    ): Promise<DeliveryRow[]> {
      const res = await q.query<DeliveryRow>(
        `SELECT * FROM deliveries
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR receiver = $2)
           AND ($3::text IS NULL OR fingerprints @> ARRAY[$3::text])
         ORDER BY created_at DESC, id LIMIT $4`,
        [f.status ?? null, f.receiver ?? null, f.fingerprint ?? null, f.limit],
      );
      return res.rows;
    },

    /** A dead delivery back in the queue with a fresh set of attempts. */
    async resend(q: Queryable, id: string): Promise<DeliveryRow | null> {
      const res = await q.query<DeliveryRow>(
        `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), dead_reason = NULL,
           updated_at = now()
         WHERE id = $1 AND status = 'dead' RETURNING *`,
        [id],
      );
      return res.rows[0] ?? null;
    },

    /** PagerDuty receivers that were sent a trigger for this alert (to acknowledge or resolve there). */
    async pagerDutyTriggered(
      q: Queryable,
      fingerprint: string,
    ): Promise<{ receiver: string; message: NotificationMessage }[]> {
      const res = await q.query<{ receiver: string; message: NotificationMessage }>(
        `SELECT DISTINCT ON (receiver) receiver, message FROM deliveries
         WHERE receiver_type = 'pagerduty' AND action = 'trigger' AND dedup_key = $1
         ORDER BY receiver, created_at DESC`,
        [fingerprint],
      );
      return res.rows;
    },
  };
}
export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
