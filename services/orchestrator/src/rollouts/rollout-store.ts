import type { Queryable } from "@nexus/kit";
import type { PageCursor } from "../http/access.js";
import type { WaveSelector } from "../pipelines/pipeline-types.js";
import type { RolloutPlan, RolloutRecord, RolloutStatus } from "./rollout-types.js";

const COLUMNS =
  "run_id, pipeline, namespace, environment, hold_revision, target_revision, waves, released_waves, status";

interface Row {
  run_id: string;
  pipeline: string;
  namespace: string;
  environment: string;
  hold_revision: number;
  target_revision: number | null;
  waves: WaveSelector[];
  released_waves: number;
  status: RolloutStatus;
}

const toPlan = (r: Row): RolloutPlan => ({
  runId: r.run_id,
  pipeline: r.pipeline,
  namespace: r.namespace,
  environment: r.environment,
  holdRevision: r.hold_revision,
  targetRevision: r.target_revision,
  waves: r.waves,
  releasedWaves: r.released_waves,
  status: r.status,
});

/** Unique violation of `rollouts_one_active`: another run rolls out to the same place. */
export const isAnotherActiveRollout = (err: unknown) =>
  (err as { code?: string; constraint?: string })?.code === "23505" &&
  (err as { constraint?: string }).constraint === "rollouts_one_active";

export function createRolloutStore() {
  return {
    /** Start (or find again, on a retried step) this run's rollout. */
    async start(db: Queryable, p: Omit<RolloutPlan, "targetRevision" | "releasedWaves" | "status">) {
      await db.query(
        `INSERT INTO rollouts (run_id, pipeline, namespace, environment, hold_revision, waves)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id) DO NOTHING`,
        [p.runId, p.pipeline, p.namespace, p.environment, p.holdRevision, JSON.stringify(p.waves)],
      );
    },
    /** Record a gate before the run opens it at the registry (again, on a retried step: open again). */
    async recordGateOpening(db: Queryable, g: { runId: string; namespace: string; environment: string }) {
      await db.query(
        `INSERT INTO rollout_gates (run_id, namespace, environment) VALUES ($1, $2, $3)
         ON CONFLICT (run_id) DO UPDATE SET closed_at = NULL`,
        [g.runId, g.namespace, g.environment],
      );
    },
    /**
     * Gates not known closed whose run can no longer need them, oldest first: its plan ended, or
     * it has no plan and its run ended and is claimed by no instance (nothing can commit its plan
     * any more: a step commits only under a live claim, and an ended run is never claimed again).
     */
    async gatesLeftOpen(
      db: Queryable,
      limit: number,
    ): Promise<{ runId: string; namespace: string; environment: string }[]> {
      const res = await db.query<{ runId: string; namespace: string; environment: string }>(
        `SELECT g.run_id AS "runId", g.namespace, g.environment
         FROM rollout_gates g
         JOIN runs u ON u.id = g.run_id
         LEFT JOIN rollouts r ON r.run_id = g.run_id
         WHERE g.closed_at IS NULL
           AND (r.status IN ('completed', 'aborted')
                OR (r.run_id IS NULL AND u.status IN ('succeeded', 'failed', 'rolled-back')
                    AND (u.claimed_by IS NULL OR u.claim_expires_at <= now())))
         ORDER BY g.opened_at LIMIT $1`,
        [limit],
      );
      return res.rows;
    },
    async markGateClosed(db: Queryable, runId: string): Promise<void> {
      await db.query("UPDATE rollout_gates SET closed_at = now() WHERE run_id = $1 AND closed_at IS NULL", [
        runId,
      ]);
    },
    async get(db: Queryable, runId: string): Promise<RolloutPlan | null> {
      const res = await db.query<Row>(`SELECT ${COLUMNS} FROM rollouts WHERE run_id = $1`, [runId]);
      return res.rows[0] ? toPlan(res.rows[0]) : null;
    },
    /** The rollout holding (namespace, environment) now, if any. */
    async active(db: Queryable, namespace: string, environment: string): Promise<RolloutPlan | null> {
      const res = await db.query<Row>(
        `SELECT ${COLUMNS} FROM rollouts WHERE namespace = $1 AND environment = $2 AND status = 'active'`,
        [namespace, environment],
      );
      return res.rows[0] ? toPlan(res.rows[0]) : null;
    },
    /** When the oldest active rollout started, or null when none is active. */
    async activeSince(db: Queryable): Promise<Date | null> {
      const res = await db.query<{ at: Date | null }>(
        "SELECT min(created_at) AS at FROM rollouts WHERE status = 'active'",
      );
      return res.rows[0]?.at ?? null;
    },
    /**
     * The newest rollout of each place, whatever its status (an aborted one still holds its
     * revision), in one statement; keyed by `${namespace}\u0000${environment}`.
     */
    async newestOf(
      db: Queryable,
      places: readonly { namespace: string; environment: string }[],
    ): Promise<Map<string, RolloutPlan>> {
      const res = await db.query<Row>(
        `SELECT DISTINCT ON (namespace, environment) ${COLUMNS} FROM rollouts
         WHERE (namespace, environment) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         ORDER BY namespace, environment, created_at DESC`,
        [places.map((p) => p.namespace), places.map((p) => p.environment)],
      );
      return new Map(res.rows.map((r) => [`${r.namespace}\u0000${r.environment}`, toPlan(r)]));
    },
    async release(db: Queryable, runId: string, releasedWaves: number, targetRevision: number) {
      await db.query(
        `UPDATE rollouts SET released_waves = $2, target_revision = $3, updated_at = now()
         WHERE run_id = $1 AND status = 'active'`,
        [runId, releasedWaves, targetRevision],
      );
    },
    /** End the run's rollout; the plan as it ended, or null when it was not active. */
    async finish(db: Queryable, runId: string, status: "completed" | "aborted"): Promise<RolloutPlan | null> {
      const res = await db.query<Row>(
        `UPDATE rollouts SET status = $2, updated_at = now() WHERE run_id = $1 AND status = 'active'
         RETURNING ${COLUMNS}`,
        [runId, status],
      );
      return res.rows[0] ? toPlan(res.rows[0]) : null;
    },
    /** Rollouts newest first, with when they started and last moved (the read API's rows). */
    async list(
      db: Queryable,
      q: { namespace?: string | undefined; environment?: string | undefined; id?: string; limit: number },
      before?: PageCursor,
    ): Promise<RolloutRecord[]> {
      const res = await db.query<Row & { created_at: Date; updated_at: Date }>(
        `SELECT ${COLUMNS}, created_at, updated_at FROM rollouts
         WHERE ($1::text IS NULL OR namespace = $1) AND ($2::text IS NULL OR environment = $2)
           AND ($3::uuid IS NULL OR run_id = $3)
           AND ($5::timestamptz IS NULL OR (created_at, run_id) < ($5, $6::uuid))
         ORDER BY created_at DESC, run_id DESC LIMIT $4`,
        [
          q.namespace ?? null,
          q.environment ?? null,
          q.id ?? null,
          q.limit,
          before?.createdAt ?? null,
          before?.id ?? null,
        ],
      );
      return res.rows.map((r) => ({ ...toPlan(r), createdAt: r.created_at, updatedAt: r.updated_at }));
    },
    async recordMember(db: Queryable, runId: string, instanceId: string, labels: Record<string, string>) {
      await db.query(
        `INSERT INTO rollout_members (run_id, instance_id, labels) VALUES ($1, $2, $3)
         ON CONFLICT (run_id, instance_id) DO UPDATE SET labels = EXCLUDED.labels, asked_at = now()
         WHERE rollout_members.labels IS DISTINCT FROM EXCLUDED.labels`,
        [runId, instanceId, JSON.stringify(labels)],
      );
    },
    async memberLabels(db: Queryable, runId: string): Promise<Map<string, Record<string, string>>> {
      const res = await db.query<{ instance_id: string; labels: Record<string, string> }>(
        "SELECT instance_id, labels FROM rollout_members WHERE run_id = $1",
        [runId],
      );
      return new Map(res.rows.map((r) => [r.instance_id, r.labels]));
    },
  };
}
export type RolloutStore = ReturnType<typeof createRolloutStore>;
