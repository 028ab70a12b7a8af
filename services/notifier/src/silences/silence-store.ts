import { randomUUID } from "node:crypto";
import type { Queryable } from "@nexus/kit";
import type { Matcher } from "../routing/routing-types.js";
import type {
  SilenceChange,
  SilenceDto,
  SilenceRecord,
  SilenceVersionDto,
  SilenceView,
} from "./silence-types.js";

interface Row {
  id: string;
  matchers: Matcher[];
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  comment: string;
  created_at: Date;
  expired_by: string | null;
  /** The database's clock when the row was read: every service instance judges a silence by it. */
  db_now: Date;
}

/**
 * Whether a silence is pending, active or over is judged by the database's clock, the one its
 * `ends_at > now()` queries use, never by this process's: a notifier whose clock runs ahead
 * would end silences early (test/faults/clock-skew.test.ts).
 */
const toDto = (r: Row, now = r.db_now): SilenceDto => ({
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

interface VersionRow {
  version: number;
  silence_id: string;
  action: SilenceVersionDto["action"];
  silence: SilenceRecord;
  changes: SilenceChange[];
  author: string;
  comment: string;
  created_at: Date;
}

const toVersion = (r: VersionRow): SilenceVersionDto => ({
  version: r.version,
  silenceId: r.silence_id,
  action: r.action,
  silence: r.silence,
  changes: r.changes,
  author: r.author,
  comment: r.comment,
  createdAt: r.created_at.toISOString(),
});

/** What a version keeps of a silence. */
export const recordOf = (s: SilenceDto): SilenceRecord => ({
  id: s.id,
  matchers: s.matchers,
  startsAt: s.startsAt,
  endsAt: s.endsAt,
  createdBy: s.createdBy,
  comment: s.comment,
  expiredBy: s.expiredBy,
});

/** Version numbers are taken one transaction at a time (gapless, like the routing config's). */
const VERSION_LOCK = "notifier.silence_versions";

export function createSilenceStore() {
  return {
    /** The database's clock (the transaction's start, inside one): what silences are judged by. */
    async now(q: Queryable): Promise<Date> {
      return (await q.query<{ now: Date }>("SELECT now() AS now")).rows[0]!.now;
    },
    async insert(
      q: Queryable,
      s: { matchers: Matcher[]; startsAt: Date; endsAt: Date; createdBy: string; comment: string },
    ): Promise<SilenceDto> {
      const res = await q.query<Row>(
        `INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *, now() AS db_now`,
        [randomUUID(), JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.createdBy, s.comment],
      );
      return toDto(res.rows[0]!);
    },
    async list(q: Queryable, includeExpired: boolean): Promise<SilenceDto[]> {
      const res = await q.query<Row>(
        `SELECT *, now() AS db_now FROM silences WHERE $1 OR ends_at > now() ORDER BY starts_at DESC LIMIT 1000`,
        [includeExpired],
      );
      return res.rows.map((r) => toDto(r));
    },
    async find(q: Queryable, id: string): Promise<SilenceDto | null> {
      const res = await q.query<Row>("SELECT *, now() AS db_now FROM silences WHERE id = $1", [id]);
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    /** The silence, locked until the transaction ends (a change reads, decides and writes under it). */
    async findForUpdate(q: Queryable, id: string): Promise<SilenceDto | null> {
      const res = await q.query<Row>("SELECT *, now() AS db_now FROM silences WHERE id = $1 FOR UPDATE", [
        id,
      ]);
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    async update(
      q: Queryable,
      id: string,
      s: { matchers: Matcher[]; startsAt: Date; endsAt: Date; comment: string },
    ): Promise<SilenceDto> {
      const res = await q.query<Row>(
        `UPDATE silences SET matchers = $2, starts_at = $3, ends_at = $4, comment = $5 WHERE id = $1 RETURNING *, now() AS db_now`,
        [id, JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.comment],
      );
      return toDto(res.rows[0]!);
    },
    /** Append the next numbered version (inside the transaction that made the change). */
    async appendVersion(
      q: Queryable,
      v: Omit<SilenceVersionDto, "version" | "createdAt">,
    ): Promise<SilenceVersionDto> {
      await q.query("SELECT pg_advisory_xact_lock(hashtext($1))", [VERSION_LOCK]);
      const res = await q.query<VersionRow>(
        `INSERT INTO silence_versions (version, silence_id, action, silence, changes, author, comment)
         SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5, $6 FROM silence_versions
         RETURNING *`,
        [v.silenceId, v.action, JSON.stringify(v.silence), JSON.stringify(v.changes), v.author, v.comment],
      );
      return toVersion(res.rows[0]!);
    },
    async versions(
      q: Queryable,
      o: { limit: number; before?: number | undefined; silenceId?: string | undefined },
    ): Promise<SilenceVersionDto[]> {
      const res = await q.query<VersionRow>(
        `SELECT * FROM silence_versions
         WHERE ($2::int IS NULL OR version < $2) AND ($3::uuid IS NULL OR silence_id = $3)
         ORDER BY version DESC LIMIT $1`,
        [o.limit, o.before ?? null, o.silenceId ?? null],
      );
      return res.rows.map(toVersion);
    },
    async version(q: Queryable, version: number): Promise<SilenceVersionDto | null> {
      const res = await q.query<VersionRow>("SELECT * FROM silence_versions WHERE version = $1", [version]);
      return res.rows[0] ? toVersion(res.rows[0]) : null;
    },
    /** End a silence now (kept for the record). */
    async expire(q: Queryable, id: string, by: string): Promise<SilenceDto | null> {
      const res = await q.query<Row>(
        `UPDATE silences SET ends_at = GREATEST(starts_at + interval '1 millisecond', LEAST(ends_at, now())), expired_by = $2
         WHERE id = $1 RETURNING *, now() AS db_now`,
        [id, by],
      );
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
    /** Silences that are active now or start later (ended ones cannot mute anything). */
    async current(q: Queryable): Promise<SilenceView[]> {
      const res = await q.query<Row>("SELECT *, now() AS db_now FROM silences WHERE ends_at > now()");
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
