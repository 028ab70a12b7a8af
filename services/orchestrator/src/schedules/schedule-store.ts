import type { Queryable } from "@nexus/kit";

export function createScheduleStore() {
  return {
    async fired(db: Queryable, pipeline: string, at: Date): Promise<boolean> {
      const res = await db.query("SELECT 1 FROM schedule_fires WHERE pipeline = $1 AND fire_at = $2", [
        pipeline,
        at,
      ]);
      return (res.rowCount ?? 0) > 0;
    },
    /** Record that this time fired; false when another instance (or an earlier pass) did. */
    async claim(db: Queryable, pipeline: string, at: Date, note: string): Promise<boolean> {
      const res = await db.query(
        "INSERT INTO schedule_fires (pipeline, fire_at, note) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [pipeline, at, note],
      );
      return (res.rowCount ?? 0) > 0;
    },
    async setRun(db: Queryable, pipeline: string, at: Date, runId: string): Promise<void> {
      await db.query("UPDATE schedule_fires SET run_id = $3 WHERE pipeline = $1 AND fire_at = $2", [
        pipeline,
        at,
        runId,
      ]);
    },
    /** The newest fire of each pipeline. */
    async latest(db: Queryable): Promise<Map<string, { at: string; runId: string | null; note: string }>> {
      const res = await db.query(
        `SELECT DISTINCT ON (pipeline) pipeline, fire_at, run_id, note FROM schedule_fires
         ORDER BY pipeline, fire_at DESC`,
      );
      return new Map(
        res.rows.map((r) => [r.pipeline, { at: r.fire_at.toISOString(), runId: r.run_id, note: r.note }]),
      );
    },
  };
}
export type ScheduleStore = ReturnType<typeof createScheduleStore>;
