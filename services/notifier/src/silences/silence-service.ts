import { NotFoundError, type Pool, ValidationError } from "@nexus/kit";
import { compileRegex } from "../routing/routing-fns.js";
import type { SilenceStore } from "./silence-store.js";
import type { CreateSilenceBody, SilenceDto } from "./silence-types.js";

export function createSilenceService(deps: { pool: Pool; store: SilenceStore; wake: () => void }) {
  const { pool, store } = deps;
  return {
    async create(body: CreateSilenceBody, author: string): Promise<SilenceDto> {
      const startsAt = body.startsAt ? new Date(body.startsAt) : new Date();
      const endsAt = new Date(body.endsAt);
      if (endsAt <= startsAt)
        throw new ValidationError("invalid_silence", "endsAt must be after startsAt", { field: "endsAt" });
      if (endsAt <= new Date())
        throw new ValidationError("invalid_silence", "endsAt is in the past", { field: "endsAt" });
      for (const [i, m] of body.matchers.entries()) {
        if (m.op !== "=~" && m.op !== "!~") continue;
        try {
          compileRegex(m.value);
        } catch (err) {
          throw new ValidationError(
            "invalid_silence",
            `not a valid regular expression: ${(err as Error).message}`,
            {
              field: `matchers.${i}.value`,
            },
          );
        }
      }
      return store.insert(pool, {
        matchers: body.matchers,
        startsAt,
        endsAt,
        createdBy: author,
        comment: body.comment,
      });
    },
    list: (includeExpired: boolean) => store.list(pool, includeExpired),
    async get(id: string): Promise<SilenceDto> {
      const s = await store.find(pool, id);
      if (!s) throw new NotFoundError("silence_not_found", `no silence ${id}`, { field: "id" });
      return s;
    },
    async expire(id: string, by: string): Promise<SilenceDto> {
      const s = await store.expire(pool, id, by);
      if (!s) throw new NotFoundError("silence_not_found", `no silence ${id}`, { field: "id" });
      // Alerts it muted may now be told at their group's next look; make that look happen.
      await pool.query(
        `UPDATE alert_groups SET next_flush_at = now()
         WHERE next_flush_at IS NOT NULL AND group_key IN (SELECT group_key FROM alert_group_members WHERE notified_status = 'muted')`,
      );
      deps.wake();
      return s;
    },
  };
}
export type SilenceService = ReturnType<typeof createSilenceService>;
