import type { Queryable } from "@nexus/kit";
import type { RouteMatch } from "../routing/routing-fns.js";

export interface GroupRow {
  group_key: string;
  receiver: string;
  route_path: string;
  group_labels: Record<string, string>;
  group_wait_ms: number;
  group_interval_ms: number;
  repeat_interval_ms: number;
  next_flush_at: Date | null;
  last_notified_at: Date | null;
  last_notified_state: string;
}

export interface MemberRow {
  fingerprint: string;
  notified_status: string | null;
}

export function createGroupStore() {
  return {
    /**
     * Put an alert that changed into its group and bring the group's next flush forward: a new
     * group waits group_wait; one that has notified before waits for its next group_interval tick.
     */
    async touch(
      q: Queryable,
      key: string,
      match: RouteMatch,
      labels: Record<string, string>,
      fingerprint: string,
    ) {
      await q.query(
        `WITH g AS (
           INSERT INTO alert_groups AS ag (group_key, receiver, route_path, group_labels, group_wait_ms,
             group_interval_ms, repeat_interval_ms, next_flush_at)
           VALUES ($1, $2, $3, $4, $5::int, $6::int, $7::int, now() + make_interval(secs => $5::int / 1000.0))
           ON CONFLICT (group_key) DO UPDATE SET
             group_wait_ms = EXCLUDED.group_wait_ms,
             group_interval_ms = EXCLUDED.group_interval_ms,
             repeat_interval_ms = EXCLUDED.repeat_interval_ms,
             next_flush_at = LEAST(
               COALESCE(ag.next_flush_at, 'infinity'),
               CASE WHEN ag.last_notified_at IS NULL THEN now() + make_interval(secs => EXCLUDED.group_wait_ms / 1000.0)
                    ELSE GREATEST(now(), ag.last_notified_at + make_interval(secs => EXCLUDED.group_interval_ms / 1000.0)) END)
           RETURNING group_key
         )
         INSERT INTO alert_group_members (group_key, fingerprint) SELECT group_key, $8 FROM g
         ON CONFLICT DO NOTHING`,
        [
          key,
          match.receiver,
          match.path,
          JSON.stringify(labels),
          match.groupWaitMs,
          match.groupIntervalMs,
          match.repeatIntervalMs,
          fingerprint,
        ],
      );
    },

    /** One due group, locked for this transaction; other instances skip it. */
    async claimDue(q: Queryable): Promise<GroupRow | null> {
      const res = await q.query<GroupRow>(
        `SELECT * FROM alert_groups WHERE next_flush_at <= now()
         ORDER BY next_flush_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      return res.rows[0] ?? null;
    },

    async nextDueAt(q: Queryable): Promise<Date | null> {
      const res = await q.query<{ at: Date | null }>("SELECT min(next_flush_at) AS at FROM alert_groups");
      return res.rows[0]?.at ?? null;
    },

    async members(q: Queryable, key: string): Promise<MemberRow[]> {
      const res = await q.query<MemberRow>(
        "SELECT fingerprint, notified_status FROM alert_group_members WHERE group_key = $1",
        [key],
      );
      return res.rows;
    },

    async afterFlush(
      q: Queryable,
      key: string,
      r: {
        notified: boolean;
        state: string;
        nextFlushAt: Date | null;
        firing: string[];
        drop: string[];
        muted: string[];
      },
    ): Promise<void> {
      await q.query(
        `UPDATE alert_groups SET next_flush_at = $2, last_notified_state = $3,
           last_notified_at = CASE WHEN $4 THEN now() ELSE last_notified_at END
         WHERE group_key = $1`,
        [key, r.nextFlushAt, r.state, r.notified],
      );
      if (r.notified && r.firing.length) {
        await q.query(
          "UPDATE alert_group_members SET notified_status = 'firing' WHERE group_key = $1 AND fingerprint = ANY($2)",
          [key, r.firing],
        );
      }
      if (r.muted.length) {
        // Remember that the mute was recorded, but keep 'firing' so a resolve is still reported.
        await q.query(
          `UPDATE alert_group_members SET notified_status = 'muted'
           WHERE group_key = $1 AND fingerprint = ANY($2) AND notified_status IS NULL`,
          [key, r.muted],
        );
      }
      if (r.drop.length) {
        await q.query("DELETE FROM alert_group_members WHERE group_key = $1 AND fingerprint = ANY($2)", [
          key,
          r.drop,
        ]);
      }
    },
  };
}
export type GroupStore = ReturnType<typeof createGroupStore>;
