import { NotFoundError, type Pool, type Queryable, ValidationError, withTransaction } from "@nexus/kit";
import { compileRegex } from "../routing/routing-fns.js";
import type { Matcher } from "../routing/routing-types.js";
import { silenceChanges } from "./silence-fns.js";
import { recordOf, type SilenceStore } from "./silence-store.js";
import type { CreateSilenceBody, EditSilenceBody, SilenceDto, SilenceVersionDto } from "./silence-types.js";

const invalid = (message: string, field: string) =>
  new ValidationError("invalid_silence", message, { field });

function checkMatchers(matchers: readonly Matcher[]): void {
  for (const [i, m] of matchers.entries()) {
    if (m.op !== "=~" && m.op !== "!~") continue;
    try {
      compileRegex(m.value);
    } catch (err) {
      throw invalid(`not a valid regular expression: ${(err as Error).message}`, `matchers.${i}.value`);
    }
  }
}

/** `now` is the database's clock: a notifier whose own clock is off judges silences as every other one does. */
function checkWindow(startsAt: Date, endsAt: Date, now: Date): void {
  if (endsAt <= startsAt) throw invalid("endsAt must be after startsAt", "endsAt");
  if (endsAt <= now) throw invalid("endsAt is in the past", "endsAt");
}

/**
 * Silences, where every change (create, edit, end early) writes a numbered, immutable version
 * in the same transaction: who, why, the silence after the change, and what changed.
 */
export function createSilenceService(deps: { pool: Pool; store: SilenceStore; wake: () => void }) {
  const { pool, store } = deps;
  const notFound = (id: string) =>
    new NotFoundError("silence_not_found", `no silence ${id}`, { field: "id" });

  /** Alerts a silence muted may now be told at their group's next look; make that look happen. */
  async function lookAgainAtMuted(q: Queryable): Promise<void> {
    await q.query(
      `UPDATE alert_groups SET next_flush_at = now()
       WHERE next_flush_at IS NOT NULL AND group_key IN (SELECT group_key FROM alert_group_members WHERE notified_status = 'muted')`,
    );
  }

  return {
    async create(body: CreateSilenceBody, author: string): Promise<SilenceDto> {
      checkMatchers(body.matchers);
      return withTransaction(pool, async (c) => {
        const now = await store.now(c);
        const startsAt = body.startsAt ? new Date(body.startsAt) : now;
        const endsAt = new Date(body.endsAt);
        checkWindow(startsAt, endsAt, now);
        const s = await store.insert(c, {
          matchers: body.matchers,
          startsAt,
          endsAt,
          createdBy: author,
          comment: body.comment,
        });
        await store.appendVersion(c, {
          silenceId: s.id,
          action: "created",
          silence: recordOf(s),
          changes: silenceChanges(null, recordOf(s)),
          author,
          comment: body.comment,
        });
        return s;
      });
    },
    list: (includeExpired: boolean) => store.list(pool, includeExpired),
    async get(id: string): Promise<SilenceDto> {
      const s = await store.find(pool, id);
      if (!s) throw notFound(id);
      return s;
    },
    /** Change a silence that has not ended; a change that changes nothing writes no version. */
    async edit(id: string, body: EditSilenceBody, author: string): Promise<SilenceDto> {
      const edited = await withTransaction(pool, async (c) => {
        const before = await store.findForUpdate(c, id);
        if (!before) throw notFound(id);
        if (before.state === "expired")
          throw new ValidationError("silence_expired", `silence ${id} has ended; create a new one`, {
            field: "id",
          });
        const startsAt = body.startsAt ? new Date(body.startsAt) : new Date(before.startsAt);
        if (body.startsAt && before.state === "active" && startsAt.getTime() !== Date.parse(before.startsAt))
          throw invalid("a silence that has started keeps its start; change endsAt instead", "startsAt");
        const endsAt = body.endsAt ? new Date(body.endsAt) : new Date(before.endsAt);
        checkWindow(startsAt, endsAt, await store.now(c));
        const matchers = body.matchers ?? before.matchers;
        checkMatchers(matchers);
        const after = await store.update(c, id, {
          matchers,
          startsAt,
          endsAt,
          comment: body.comment ?? before.comment,
        });
        const changes = silenceChanges(recordOf(before), recordOf(after));
        if (changes.length === 0) return { silence: after, changed: false };
        await store.appendVersion(c, {
          silenceId: id,
          action: "edited",
          silence: recordOf(after),
          changes,
          author,
          comment: body.changeComment ?? "",
        });
        // Narrower matchers or an earlier end may unmute alerts now.
        await lookAgainAtMuted(c);
        return { silence: after, changed: true };
      });
      if (edited.changed) deps.wake();
      return edited.silence;
    },
    /** End a silence now (it stays on record); ending one that has ended changes nothing. */
    async expire(id: string, by: string, comment?: string): Promise<SilenceDto> {
      const ended = await withTransaction(pool, async (c) => {
        const before = await store.findForUpdate(c, id);
        if (!before) throw notFound(id);
        if (before.state === "expired") return { silence: before, changed: false };
        const after = (await store.expire(c, id, by))!;
        await store.appendVersion(c, {
          silenceId: id,
          action: "expired",
          silence: recordOf(after),
          changes: silenceChanges(recordOf(before), recordOf(after)),
          author: by,
          comment: comment ?? "",
        });
        await lookAgainAtMuted(c);
        return { silence: after, changed: true };
      });
      if (ended.changed) deps.wake();
      return ended.silence;
    },
    versions: (o: { limit: number; before?: number | undefined; silenceId?: string | undefined }) =>
      store.versions(pool, o),
    async version(n: number): Promise<SilenceVersionDto> {
      const v = await store.version(pool, n);
      if (!v)
        throw new NotFoundError("version_not_found", `silence version ${n} does not exist`, {
          field: "version",
        });
      return v;
    },
  };
}
export type SilenceService = ReturnType<typeof createSilenceService>;
