import { randomUUID } from "node:crypto";
import type { Queryable } from "@nexus/kit";
import type { SilenceView } from "../alerts/grouping-fns.js";
import type { Matcher } from "../routing/routing-types.js";
import type { SilenceDto } from "./silence-types.js";

interface Row {
  id: string;
  matchers: Matcher[];
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  comment: string;
  created_at: Date;
  expired_by: string | null;
}

const toDto = (r: Row, now = new Date()): SilenceDto => ({
  id: r.id,
  matchers: r.matchers,
  startsAt: r.starts_at.toISOString(),
  endsAt: r.ends_at.toISOString(),
  createdBy: r.created_by,
  comment: r.comment,
  createdAt: r.created_at.toISOString(),
  state: r.ends_at <= now ? "expired" : r.starts_at > now ? "pending" : "active",
  expiredBy: r.expired_by,
});

export function createSilenceStore() {
  return {
    async insert(
      q: Queryable,
      s: { matchers: Matcher[]; startsAt: Date; endsAt: Date; createdBy: string; comment: string },
    ): Promise<SilenceDto> {
      const res = await q.query<Row>(
        `INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [randomUUID(), JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.createdBy, s.comment],
      );
      return toDto(res.rows[0]!);
    },
    async list(q: Queryable, includeExpired: boolean): Promise<SilenceDto[]> {
      const res = await q.query<Row>(
        `SELECT * FROM silences WHERE $1 OR ends_at > now() ORDER BY starts_at DESC LIMIT 1000`,
        [includeExpired],
      );
      return res.rows.map((r) => toDto(r));
    },
    async find(q: Queryable, id: string): Promise<SilenceDto | null> {
      const res = await q.query<Row>("SELECT * FROM silences WHERE id = $1", [id]);
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    /** End a silence now (kept for the record). */
    async expire(q: Queryable, id: string, by: string): Promise<SilenceDto | null> {
      const res = await q.query<Row>(
        `UPDATE silences SET ends_at = GREATEST(starts_at + interval '1 millisecond', LEAST(ends_at, now())), expired_by = $2
         WHERE id = $1 RETURNING *`,
        [id, by],
      );
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    /** Silences that are active now or start later (ended ones cannot mute anything). */
    async current(q: Queryable): Promise<SilenceView[]> {
      const res = await q.query<Row>("SELECT * FROM silences WHERE ends_at > now()");
      return res.rows.map((r) => ({
        id: r.id,
        matchers: r.matchers,
        startsAt: r.starts_at,
        endsAt: r.ends_at,
      }));
    },
  };
}
export type SilenceStore = ReturnType<typeof createSilenceStore>;
