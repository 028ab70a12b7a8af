import { randomUUID } from "node:crypto";
import type { JobDto, JobRunDto } from "@nexus/contracts";
import { type Logger, NotFoundError, type Pool } from "@nexus/kit";
import { clip } from "../runs/run-event-fns.js";
import { nextFireTime } from "../schedules/schedule-fns.js";
import { checkJob } from "./job-fns.js";
import type { JobRow, JobStore } from "./job-store.js";
import type { JobDefinition } from "./job-types.js";
import type { JobOutcome } from "./job-work.js";

export type JobWork = {
  [K in JobDefinition["kind"]]: (job: Extract<JobDefinition, { kind: K }>) => Promise<JobOutcome>;
};

const toDto = (j: JobRow, now: Date): JobDto => ({
  name: j.name,
  kind: j.kind,
  definition: j.definition as unknown as Record<string, unknown>,
  updatedBy: j.updatedBy,
  createdAt: j.createdAt.toISOString(),
  updatedAt: j.updatedAt.toISOString(),
  nextRunAt: j.definition.schedule ? (nextFireTime(j.definition.schedule, now)?.toISOString() ?? null) : null,
});

/**
 * Maintenance jobs: stored definitions, and runs started by hand (any instance, the one asked) or
 * by their schedule (the schedules' lease holder). A run executes in the instance that started it,
 * which renews its claim while it works; a run whose claim lapsed reads as interrupted.
 */
export function createJobService(deps: {
  pool: Pool;
  jobs: JobStore;
  work: JobWork;
  logger: Logger;
  /** A running job's claim lasts this long without a renewal. */
  leaseMs: number;
}) {
  const { pool, jobs, logger } = deps;
  const inFlight = new Set<Promise<void>>();

  const mustGet = async (name: string): Promise<JobRow> => {
    const job = await jobs.get(pool, name);
    if (!job) throw new NotFoundError("job_not_found", `no job ${name}`, { field: "name" });
    return job;
  };

  async function execute(id: string, job: JobRow): Promise<void> {
    const renew = setInterval(
      () => void jobs.renew(pool, id, deps.leaseMs).catch(() => undefined),
      Math.max(100, Math.floor(deps.leaseMs / 3)),
    );
    let outcome: JobOutcome;
    try {
      const work = deps.work[job.kind] as (j: JobDefinition) => Promise<JobOutcome>;
      outcome = await work(job.definition);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      outcome = { ok: false, summary: `could not finish: ${why}`, findings: [] };
    } finally {
      clearInterval(renew);
    }
    await jobs.finishRun(pool, id, {
      status: outcome.ok ? "succeeded" : "failed",
      summary: clip(outcome.summary, 2000),
      findings: outcome.findings,
    });
    logger[outcome.ok ? "info" : "warn"](
      { job: job.name, runId: id, findings: outcome.findings.length },
      `job ${job.name}: ${outcome.summary}`,
    );
  }

  /** Run in the background; `stop` waits for it. */
  function launch(id: string, job: JobRow): void {
    const p = execute(id, job)
      .catch((err) =>
        logger.error({ err, job: job.name, runId: id }, `job ${job.name} could not record its run`),
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  return {
    async put(name: string, body: unknown, actor: string): Promise<{ job: JobDto; created: boolean }> {
      const def = checkJob(body, name);
      const { created } = await jobs.upsert(pool, def, actor);
      return { job: toDto(await mustGet(name), new Date()), created };
    },
    async list(): Promise<JobDto[]> {
      const now = new Date();
      return (await jobs.list(pool)).map((j) => toDto(j, now));
    },
    /** The stored jobs as the scheduler reads them. */
    rows: () => jobs.list(pool),
    get: async (name: string) => toDto(await mustGet(name), new Date()),
    async delete(name: string): Promise<void> {
      if (!(await jobs.delete(pool, name)))
        throw new NotFoundError("job_not_found", `no job ${name}`, { field: "name" });
    },
    async runs(name: string, limit: number): Promise<JobRunDto[]> {
      await mustGet(name);
      return jobs.runs(pool, name, limit);
    },
    async run(id: string): Promise<JobRunDto> {
      const run = await jobs.run(pool, id);
      if (!run) throw new NotFoundError("job_run_not_found", `no job run ${id}`, { field: "id" });
      return run;
    },
    /** Start a run now (by hand); it executes in the background here. */
    async startNow(name: string, actor: string): Promise<JobRunDto> {
      const job = await mustGet(name);
      const id = randomUUID();
      await jobs.startRun(
        pool,
        { id, job, trigger: "manual", scheduledAt: null, startedBy: actor },
        deps.leaseMs,
      );
      launch(id, job);
      return (await jobs.run(pool, id))!;
    },
    /** Fire a scheduled time once (false: it already fired). */
    async fire(job: JobRow, at: Date): Promise<boolean> {
      const id = randomUUID();
      const claimed = await jobs.startRun(
        pool,
        { id, job, trigger: "schedule", scheduledAt: at, startedBy: "schedule" },
        deps.leaseMs,
      );
      if (!claimed) return false;
      logger.info(
        { job: job.name, runId: id, at },
        `schedule of job ${job.name} at ${at.toISOString()} started run ${id}`,
      );
      launch(id, job);
      return true;
    },
    /** Wait for the runs executing here. */
    async stop(): Promise<void> {
      await Promise.all([...inFlight]);
    },
  };
}
export type JobService = ReturnType<typeof createJobService>;
