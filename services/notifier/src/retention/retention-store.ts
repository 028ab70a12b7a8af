import type { Queryable } from "@nexus/kit";

/**
 * Deletes of old rows, one batch per statement (each its own short transaction, so the job never
 * holds many locks or a long snapshot). Each returns how many rows went; callers loop while a
 * batch comes back full.
 */
export function createRetentionStore() {
  const count = async (q: Queryable, sql: string, params: unknown[]) =>
    (await q.query(sql, params)).rowCount ?? 0;
  return {
    /** Delivered deliveries last touched before the cutoff (pending and sending ones never go). */
    deliveredBefore: (q: Queryable, cutoff: Date, limit: number) =>
      count(
        q,
        `DELETE FROM deliveries WHERE id IN (
           SELECT id FROM deliveries WHERE status = 'delivered' AND updated_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [cutoff, limit],
      ),
    deadBefore: (q: Queryable, cutoff: Date, limit: number) =>
      count(
        q,
        `DELETE FROM deliveries WHERE id IN (
           SELECT id FROM deliveries WHERE status = 'dead' AND updated_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [cutoff, limit],
      ),
    /**
     * Alerts that are not firing and saw nothing (raise, resolve, ack) since the cutoff; their group
     * memberships go with them (ON DELETE CASCADE). A firing alert stays, however old.
     */
    alertsBefore: (q: Queryable, cutoff: Date, limit: number) =>
      count(
        q,
        `DELETE FROM alerts WHERE fingerprint IN (
           SELECT fingerprint FROM alerts
           WHERE status <> 'firing' AND GREATEST(last_received_at, ends_at, acked_at) < $1
           LIMIT $2 FOR UPDATE SKIP LOCKED)
         AND status <> 'firing'`,
        [cutoff, limit],
      ),
    /** History lines before the cutoff, except those of alerts still firing (their story stays whole). */
    historyBefore: (q: Queryable, cutoff: Date, limit: number) =>
      count(
        q,
        `DELETE FROM alert_history WHERE id IN (
           SELECT h.id FROM alert_history h
           WHERE h.at < $1
             AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.fingerprint = h.fingerprint AND a.status = 'firing')
           LIMIT $2)`,
        [cutoff, limit],
      ),
    /**
     * Groups left without members, with nothing due, that told nobody anything since the cutoff.
     * The conditions are on the group row itself, so a group an alert joins meanwhile (which sets
     * next_flush_at under the row lock) is re-checked and kept.
     */
    emptyGroupsBefore: (q: Queryable, cutoff: Date, limit: number) =>
      count(
        q,
        `DELETE FROM alert_groups WHERE group_key IN (
           SELECT g.group_key FROM alert_groups g
           WHERE g.next_flush_at IS NULL AND coalesce(g.last_notified_at, '-infinity') < $1
             AND NOT EXISTS (SELECT 1 FROM alert_group_members m WHERE m.group_key = g.group_key)
           LIMIT $2 FOR UPDATE SKIP LOCKED)
         AND next_flush_at IS NULL`,
        [cutoff, limit],
      ),
    /** Pacing rows of Slack webhooks nothing was sent to since the cutoff (removed or renamed receivers). */
    idlePacingBefore: (q: Queryable, cutoff: Date, limit: number) =>
      count(
        q,
        `DELETE FROM slack_pacing WHERE webhook_key IN (
           SELECT webhook_key FROM slack_pacing WHERE next_allowed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
         AND next_allowed_at < $1`,
        [cutoff, limit],
      ),
  };
}
export type RetentionStore = ReturnType<typeof createRetentionStore>;
