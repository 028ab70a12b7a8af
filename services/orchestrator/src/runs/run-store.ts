import type { Queryable } from "@nexus/kit";
import type { PageCursor } from "../http/access.js";
import type { Decision } from "../steps/approve-step.js";
import type { JsonObject, RunContext } from "../steps/step-types.js";
import type { RunQuery, RunRow, RunStatus, StepRow, StepStatus } from "./run-types.js";

const RUN_COLUMNS = `id, pipeline, pipeline_version, definition, namespace, source_env, target_env, source_revision,
  trigger, started_by, status, current_step, context, failure, created_at, updated_at, finished_at,
  cancel_requested_by, trigger_detail`;
const STEP_COLUMNS = "idx, name, type, status, attempts, state, summary, output, started_at, finished_at";
const ACTIVE = "('running', 'awaiting-approval', 'rolling-back')";

// biome-ignore lint/suspicious/noExplicitAny: a pg row
const toRun = (r: Record<string, any>): RunRow => ({
  id: r.id,
  pipeline: r.pipeline,
  pipelineVersion: r.pipeline_version,
  definition: r.definition,
  namespace: r.namespace,
  source: r.source_env,
  target: r.target_env,
  sourceRevision: r.source_revision,
  trigger: r.trigger,
  triggerDetail: r.trigger_detail,
  startedBy: r.started_by,
  status: r.status,
  currentStep: r.current_step,
  context: r.context,
  failure: r.failure,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
  cancelRequestedBy: r.cancel_requested_by,
});

// biome-ignore lint/suspicious/noExplicitAny: a pg row
const toStep = (r: Record<string, any>): StepRow => ({
  index: r.idx,
  name: r.name,
  type: r.type,
  status: r.status,
  attempts: r.attempts,
  state: r.state,
  summary: r.summary,
  output: r.output,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export interface StepPatch {
  status: StepStatus;
  attempts?: number;
  state?: JsonObject;
  summary?: string | null;
  output?: string | null;
  started?: boolean;
  finished?: boolean;
}

export interface RunPatch {
  status?: RunStatus;
  currentStep?: number;
  context?: RunContext;
  failure?: string | null;
  finished?: boolean;
}

export function createRunStore() {
  return {
    async insert(
      db: Queryable,
      run: Omit<
        RunRow,
        | "status"
        | "currentStep"
        | "context"
        | "failure"
        | "createdAt"
        | "updatedAt"
        | "finishedAt"
        | "cancelRequestedBy"
      >,
    ): Promise<void> {
      await db.query(
        `INSERT INTO runs (id, pipeline, pipeline_version, definition, namespace, source_env, target_env,
           source_revision, trigger, trigger_detail, started_by, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'running')`,
        [
          run.id,
          run.pipeline,
          run.pipelineVersion,
          JSON.stringify(run.definition),
          run.namespace,
          run.source,
          run.target,
          run.sourceRevision,
          run.trigger,
          run.triggerDetail,
          run.startedBy,
        ],
      );
      const steps = run.definition.steps;
      await db.query(
        `INSERT INTO run_steps (run_id, idx, name, type, status)
         SELECT $1, i - 1, s.name, s.type, 'pending'
         FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(v, i),
              LATERAL (SELECT v->>'name' AS name, v->>'type' AS type) s`,
        [run.id, JSON.stringify(steps)],
      );
    },

    async addStep(db: Queryable, runId: string, index: number, name: string, type: string): Promise<void> {
      await db.query(
        `INSERT INTO run_steps (run_id, idx, name, type, status) VALUES ($1, $2, $3, $4, 'pending')
         ON CONFLICT DO NOTHING`,
        [runId, index, name, type],
      );
    },

    async get(db: Queryable, id: string): Promise<RunRow | null> {
      const res = await db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1`, [id]);
      return res.rows[0] ? toRun(res.rows[0]) : null;
    },

    async lockForDecision(db: Queryable, id: string): Promise<RunRow | null> {
      const res = await db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1 FOR UPDATE`, [id]);
      return res.rows[0] ? toRun(res.rows[0]) : null;
    },

    /** Newest first; `before` continues from where a previous page ended. */
    async list(db: Queryable, q: RunQuery, before?: PageCursor): Promise<RunRow[]> {
      const res = await db.query(
        `SELECT ${RUN_COLUMNS} FROM runs
         WHERE ($1::text IS NULL OR pipeline = $1) AND ($2::text IS NULL OR status = $2)
           AND ($4::text IS NULL OR namespace = $4) AND ($5::int IS NULL OR source_revision = $5)
           AND ($6::timestamptz IS NULL OR (created_at, id) < ($6, $7::uuid))
         ORDER BY created_at DESC, id DESC LIMIT $3`,
        [
          q.pipeline ?? null,
          q.status ?? null,
          q.limit,
          q.namespace ?? null,
          q.sourceRevision ?? null,
          before?.createdAt ?? null,
          before?.id ?? null,
        ],
      );
      return res.rows.map(toRun);
    },

    async steps(db: Queryable, runId: string): Promise<StepRow[]> {
      const res = await db.query(`SELECT ${STEP_COLUMNS} FROM run_steps WHERE run_id = $1 ORDER BY idx`, [
        runId,
      ]);
      return res.rows.map(toStep);
    },

    async step(db: Queryable, runId: string, index: number): Promise<StepRow | null> {
      const res = await db.query(`SELECT ${STEP_COLUMNS} FROM run_steps WHERE run_id = $1 AND idx = $2`, [
        runId,
        index,
      ]);
      return res.rows[0] ? toStep(res.rows[0]) : null;
    },

    async decisions(db: Queryable, runId: string, stepIndex?: number) {
      const res = await db.query(
        `SELECT step_idx, actor, decision, comment, decided_at FROM approvals
         WHERE run_id = $1 AND ($2::int IS NULL OR step_idx = $2) ORDER BY decided_at, actor`,
        [runId, stepIndex ?? null],
      );
      return res.rows.map((r) => ({
        stepIndex: r.step_idx as number,
        actor: r.actor as string,
        decision: r.decision as Decision["decision"],
        comment: r.comment as string,
        decidedAt: (r.decided_at as Date).toISOString(),
      }));
    },

    /** False when this actor already decided on this step. */
    async insertDecision(db: Queryable, runId: string, stepIndex: number, d: Decision): Promise<boolean> {
      const res = await db.query(
        `INSERT INTO approvals (run_id, step_idx, actor, decision, comment) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [runId, stepIndex, d.actor, d.decision, d.comment],
      );
      return (res.rowCount ?? 0) > 0;
    },

    /** The newest target revision a succeeded run of the pipeline wrote (other than `exceptRunId`). */
    async lastPassedRevision(db: Queryable, pipeline: string, exceptRunId: string): Promise<number | null> {
      const res = await db.query(
        `SELECT (context->>'promotedRevision')::int AS revision FROM runs
         WHERE pipeline = $1 AND id <> $2 AND status = 'succeeded' AND context->>'promotedRevision' IS NOT NULL
         ORDER BY finished_at DESC LIMIT 1`,
        [pipeline, exceptRunId],
      );
      return res.rows[0]?.revision ?? null;
    },

    /**
     * Take the next run due (its wake time passed, nobody's live claim on it) for `leaseMs`.
     * SKIP LOCKED: instances claiming at once each get a different run, none waits for another.
     */
    async claimNext(db: Queryable, owner: string, leaseMs: number): Promise<RunRow | null> {
      const res = await db.query(
        `UPDATE runs SET claimed_by = $1, claim_expires_at = now() + make_interval(secs => $2::float8 / 1000)
         WHERE id = (
           SELECT id FROM runs
           WHERE status IN ${ACTIVE} AND wake_at <= now() AND (claim_expires_at IS NULL OR claim_expires_at < now())
           ORDER BY wake_at FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING ${RUN_COLUMNS}`,
        [owner, leaseMs],
      );
      return res.rows[0] ? toRun(res.rows[0]) : null;
    },

    /** Extend a claim; false when it is no longer this owner's (expired and taken). */
    async renew(db: Queryable, id: string, owner: string, leaseMs: number): Promise<boolean> {
      const res = await db.query(
        `UPDATE runs SET claim_expires_at = now() + make_interval(secs => $3::float8 / 1000)
         WHERE id = $1 AND claimed_by = $2 AND claim_expires_at > now()`,
        [id, owner, leaseMs],
      );
      return (res.rowCount ?? 0) > 0;
    },

    /** Lock the run for a transition, only if this owner still holds a live claim on it. */
    async lockOwned(db: Queryable, id: string, owner: string): Promise<RunRow | null> {
      const res = await db.query(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1 AND claimed_by = $2 AND claim_expires_at > now() FOR UPDATE`,
        [id, owner],
      );
      return res.rows[0] ? toRun(res.rows[0]) : null;
    },

    async updateRun(db: Queryable, id: string, p: RunPatch): Promise<void> {
      await db.query(
        `UPDATE runs SET status = COALESCE($2, status), current_step = COALESCE($3, current_step),
           context = COALESCE($4::jsonb, context), failure = CASE WHEN $5 THEN $6 ELSE failure END,
           finished_at = CASE WHEN $7 THEN now() ELSE finished_at END, updated_at = now()
         WHERE id = $1`,
        [
          id,
          p.status ?? null,
          p.currentStep ?? null,
          p.context ? JSON.stringify(p.context) : null,
          p.failure !== undefined,
          p.failure ?? null,
          p.finished ?? false,
        ],
      );
    },

    /** Give the run up until `wakeInMs` (a waiting step) or for good (finished). */
    async release(db: Queryable, id: string, wakeInMs: number): Promise<void> {
      await db.query(
        `UPDATE runs SET claimed_by = NULL, claim_expires_at = NULL,
           wake_at = now() + make_interval(secs => $2::float8 / 1000) WHERE id = $1`,
        [id, wakeInMs],
      );
    },

    async requestCancel(db: Queryable, id: string, actor: string): Promise<void> {
      await db.query("UPDATE runs SET cancel_requested_by = $2, wake_at = now() WHERE id = $1", [id, actor]);
    },

    /** Look at a waiting run now (an approval came in). */
    async wake(db: Queryable, id: string): Promise<void> {
      await db.query("UPDATE runs SET wake_at = now() WHERE id = $1", [id]);
    },

    async updateStep(db: Queryable, runId: string, index: number, p: StepPatch): Promise<void> {
      await db.query(
        `UPDATE run_steps SET status = $3, attempts = COALESCE($4, attempts), state = COALESCE($5::jsonb, state),
           summary = CASE WHEN $6 THEN $7 ELSE summary END, output = CASE WHEN $8 THEN $9 ELSE output END,
           started_at = CASE WHEN $10 AND started_at IS NULL THEN now() ELSE started_at END,
           finished_at = CASE WHEN $11 THEN now() ELSE finished_at END
         WHERE run_id = $1 AND idx = $2`,
        [
          runId,
          index,
          p.status,
          p.attempts ?? null,
          p.state ? JSON.stringify(p.state) : null,
          p.summary !== undefined,
          p.summary ?? null,
          p.output !== undefined,
          p.output ?? null,
          p.started ?? false,
          p.finished ?? false,
        ],
      );
    },

    /** Mark a step running as its next attempt (one more than it had); the row as it is now. */
    async startStep(db: Queryable, runId: string, index: number): Promise<StepRow | null> {
      const res = await db.query(
        `UPDATE run_steps SET status = 'running', attempts = attempts + 1,
           started_at = COALESCE(started_at, now())
         WHERE run_id = $1 AND idx = $2 RETURNING ${STEP_COLUMNS}`,
        [runId, index],
      );
      return res.rows[0] ? toStep(res.rows[0]) : null;
    },

    async checkpoint(db: Queryable, runId: string, index: number, state: JsonObject): Promise<void> {
      await db.query("UPDATE run_steps SET state = $3 WHERE run_id = $1 AND idx = $2", [
        runId,
        index,
        JSON.stringify(state),
      ]);
    },
  };
}
export type RunStore = ReturnType<typeof createRunStore>;
