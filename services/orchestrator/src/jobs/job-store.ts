import type { JobFinding, JobRunDto, JobRunStatus } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type { JobDefinition } from "./job-types.js";

export interface JobRow {
  name: string;
  kind: JobDefinition["kind"];
  definition: JobDefinition;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

// biome-ignore lint/suspicious/noExplicitAny: a pg row
const toJob = (r: Record<string, any>): JobRow => ({
  name: r.name,
  kind: r.kind,
  definition: r.definition,
  updatedBy: r.updated_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const INTERRUPTED = "interrupted: the instance running it stopped";

const RUN_COLUMNS =
  "id, job, kind, trigger, scheduled_at, started_by, status, summary, findings, claim_expires_at, started_at, finished_at";

// biome-ignore lint/suspicious/noExplicitAny: a pg row
const toRun = (r: Record<string, any>, now: Date): JobRunDto => {
  // A running row whose claim expired was interrupted (its instance stopped): say so when read.
  const interrupted = r.status === "running" && r.claim_expires_at && r.claim_expires_at < now;
  return {
    id: r.id,
    job: r.job,
    kind: r.kind,
    trigger: r.trigger,
    scheduledAt: r.scheduled_at?.toISOString() ?? null,
    startedBy: r.started_by,
    status: interrupted ? "failed" : r.status,
    summary: interrupted ? INTERRUPTED : r.summary,
    findings: r.findings,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? (interrupted ? r.claim_expires_at.toISOString() : null),
  };
};

export function createJobStore() {
  return {
    async upsert(db: Queryable, job: JobDefinition, actor: string): Promise<{ created: boolean }> {
      const res = await db.query(
        `INSERT INTO jobs (name, kind, definition, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, definition = EXCLUDED.definition,
           updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [job.name, job.kind, JSON.stringify(job), actor],
      );
      return { created: Boolean(res.rows[0]?.created) };
    },
    async get(db: Queryable, name: string): Promise<JobRow | null> {
      const res = await db.query("SELECT * FROM jobs WHERE name = $1", [name]);
      return res.rows[0] ? toJob(res.rows[0]) : null;
    },
    async list(db: Queryable): Promise<JobRow[]> {
      const res = await db.query("SELECT * FROM jobs ORDER BY name");
      return res.rows.map(toJob);
    },
    async delete(db: Queryable, name: string): Promise<boolean> {
      const res = await db.query("DELETE FROM jobs WHERE name = $1", [name]);
      return (res.rowCount ?? 0) > 0;
    },

    /**
     * Start a run, held by its instance for `leaseMs`. A scheduled time is inserted once: null when
     * it already fired (another instance, an earlier pass).
     */
    async startRun(
      db: Queryable,
      run: {
        id: string;
        job: JobRow;
        trigger: "schedule" | "manual";
        scheduledAt: Date | null;
        startedBy: string;
      },
      leaseMs: number,
    ): Promise<JobRunDto | null> {
      const res = await db.query(
        `INSERT INTO job_runs (id, job, kind, trigger, scheduled_at, started_by, status, claim_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'running', now() + make_interval(secs => $7::float8 / 1000))
         ON CONFLICT (job, scheduled_at) WHERE scheduled_at IS NOT NULL DO NOTHING
         RETURNING ${RUN_COLUMNS}`,
        [run.id, run.job.name, run.job.kind, run.trigger, run.scheduledAt, run.startedBy, leaseMs],
      );
      return res.rows[0] ? toRun(res.rows[0], new Date()) : null;
    },
    async renew(db: Queryable, id: string, leaseMs: number): Promise<void> {
      await db.query(
        `UPDATE job_runs SET claim_expires_at = now() + make_interval(secs => $2::float8 / 1000)
         WHERE id = $1 AND status = 'running'`,
        [id, leaseMs],
      );
    },
    /** Record a run's end; null when it already ended (recorded as interrupted meanwhile). */
    async finishRun(
      db: Queryable,
      id: string,
      outcome: { status: Exclude<JobRunStatus, "running">; summary: string; findings: JobFinding[] },
    ): Promise<JobRunDto | null> {
      const res = await db.query(
        `UPDATE job_runs SET status = $2, summary = $3, findings = $4, finished_at = now(), claim_expires_at = NULL
         WHERE id = $1 AND status = 'running' RETURNING ${RUN_COLUMNS}`,
        [id, outcome.status, outcome.summary, JSON.stringify(outcome.findings)],
      );
      return res.rows[0] ? toRun(res.rows[0], new Date()) : null;
    },
    /**
     * Record runs whose instance stopped (claim lapsed) as failed, "interrupted", and return them
     * (each once: the row leaves `running` here), so their end can be announced.
     */
    async failInterrupted(db: Queryable, limit = 100): Promise<JobRunDto[]> {
      const res = await db.query(
        `UPDATE job_runs SET status = 'failed', summary = $1, finished_at = claim_expires_at, claim_expires_at = NULL
         WHERE id IN (SELECT id FROM job_runs WHERE status = 'running' AND claim_expires_at < now()
                      ORDER BY claim_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING ${RUN_COLUMNS}`,
        [INTERRUPTED, limit],
      );
      const now = new Date();
      return res.rows.map((r) => toRun(r, now));
    },
    async run(db: Queryable, id: string): Promise<JobRunDto | null> {
      const res = await db.query(`SELECT ${RUN_COLUMNS} FROM job_runs WHERE id = $1`, [id]);
      return res.rows[0] ? toRun(res.rows[0], new Date()) : null;
    },
    async runs(db: Queryable, job: string, limit: number): Promise<JobRunDto[]> {
      const res = await db.query(
        `SELECT ${RUN_COLUMNS} FROM job_runs WHERE job = $1 ORDER BY started_at DESC LIMIT $2`,
        [job, limit],
      );
      const now = new Date();
      return res.rows.map((r) => toRun(r, now));
    },
  };
}
export type JobStore = ReturnType<typeof createJobStore>;
