import { createHmac } from "node:crypto";
import type { Queryable } from "@nexus/kit";

/** Where a Slack message stands: go after `waitMs`, or come back later (its slot is too far off). */
export type PacingSlot = { go: true; waitMs: number } | { go: false; afterMs: number };

export interface SlackPacing {
  /** Take the next slot of this webhook unless it is more than `maxWaitMs` away. */
  claim(webhookUrl: string, intervalMs: number, maxWaitMs: number): Promise<PacingSlot>;
  /** Slack said 429 with Retry-After: nobody sends to this webhook for `ms`. */
  hold(webhookUrl: string, ms: number): Promise<void>;
  /**
   * How long the webhook is still held by a 429 (0 when it is not). Checked right before a send:
   * a message that claimed its slot before the 429 arrived must not go out during the hold.
   */
  heldForMs(webhookUrl: string): Promise<number>;
}

/**
 * Slack pacing shared by every instance through Postgres: a row per webhook whose
 * `next_allowed_at` a claim moves forward atomically (INSERT ... ON CONFLICT DO UPDATE locks the
 * row, so two instances claiming at once get consecutive slots). Times are the database's, so
 * instances' clocks do not matter; waits are durations. The row is keyed by an HMAC of the URL
 * under a key derived from the secrets key: the URL is the webhook's secret.
 */
export function createSlackPacing(deps: { db: Queryable; digestKey: Buffer }): SlackPacing {
  const keyOf = (url: string) => createHmac("sha256", deps.digestKey).update(url).digest("hex");
  return {
    async claim(webhookUrl, intervalMs, maxWaitMs) {
      const key = keyOf(webhookUrl);
      const res = await deps.db.query<{ wait_ms: number }>(
        `INSERT INTO slack_pacing AS p (webhook_key, next_allowed_at)
         VALUES ($1, clock_timestamp() + $2::int * interval '1 millisecond')
         ON CONFLICT (webhook_key) DO UPDATE
           SET next_allowed_at = GREATEST(p.next_allowed_at, clock_timestamp()) + $2::int * interval '1 millisecond'
           WHERE p.next_allowed_at <= clock_timestamp() + $3::int * interval '1 millisecond'
         RETURNING GREATEST(0, extract(epoch FROM (next_allowed_at - $2::int * interval '1 millisecond' - clock_timestamp())) * 1000)::float8 AS wait_ms`,
        [key, intervalMs, maxWaitMs],
      );
      if (res.rows[0]) return { go: true, waitMs: Math.ceil(res.rows[0].wait_ms) };
      const later = await deps.db.query<{ after_ms: number }>(
        `SELECT GREATEST(0, extract(epoch FROM (next_allowed_at - clock_timestamp())) * 1000)::float8 AS after_ms
         FROM slack_pacing WHERE webhook_key = $1`,
        [key],
      );
      return { go: false, afterMs: Math.ceil(later.rows[0]?.after_ms ?? intervalMs) };
    },
    async hold(webhookUrl, ms) {
      await deps.db.query(
        `INSERT INTO slack_pacing AS p (webhook_key, next_allowed_at, held_until)
         VALUES ($1, clock_timestamp() + $2::int * interval '1 millisecond',
                 clock_timestamp() + $2::int * interval '1 millisecond')
         ON CONFLICT (webhook_key) DO UPDATE
           SET next_allowed_at = GREATEST(p.next_allowed_at, EXCLUDED.next_allowed_at),
               held_until = GREATEST(p.held_until, EXCLUDED.held_until)`,
        [keyOf(webhookUrl), Math.ceil(ms)],
      );
    },
    async heldForMs(webhookUrl) {
      const res = await deps.db.query<{ held_ms: number }>(
        `SELECT GREATEST(0, extract(epoch FROM (held_until - clock_timestamp())) * 1000)::float8 AS held_ms
         FROM slack_pacing WHERE webhook_key = $1 AND held_until > clock_timestamp()`,
        [keyOf(webhookUrl)],
      );
      return Math.ceil(res.rows[0]?.held_ms ?? 0);
    },
  };
}
