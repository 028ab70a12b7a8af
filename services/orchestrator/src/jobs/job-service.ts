import { randomUUID } from "node:crypto";
import type { JobDto, JobRunDto } from "@nexus/contracts";
import { JOB_STARTED } from "@nexus/contracts";
import {
  type Bus,
  enqueueEvent,
  type Logger,
  NotFoundError,
  type Pool,
  type PoolClient,
  withTransaction,
} from "@nexus/kit";
import { clip } from "../runs/run-event-fns.js";
import { nextFireTime } from "../schedules/schedule-fns.js";
import { checkJob, jobEndedEvent, jobRunFacts } from "./job-fns.js";
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
 * which renews its claim while it works; a run whose claim lapsed reads as interrupted. A run's
 * start and end commit with their `job.*` event (the outbox), so each is announced exactly once.
 */
export function createJobService(deps: {
  pool: Pool;
  jobs: JobStore;
  work: JobWork;
  logger: Logger;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  /** The outbox channel of this service's relay. */
  outboxChannel: string;
  /** A running job's claim lasts this long without a renewal. */
  leaseMs: number;
}) {
  const { pool, jobs, logger } = deps;
  const inFlight = new Set<Promise<void>>();
  const enqueue = { channel: deps.outboxChannel };

  /** Insert the run and its `job.started` in one transaction; null: the scheduled time already fired. */
  const begin = (run: Parameters<JobStore["startRun"]>[1]) =>
    withTransaction(pool, async (tx) => {
      const started = await jobs.startRun(tx, run, deps.leaseMs);
      if (started) await enqueueEvent(tx, deps.bus, JOB_STARTED, jobRunFacts(started), enqueue);
      return started;
    });

  /** Record a run's end and its `job.succeeded` / `job.failed` in the caller's transaction. */
  const announceEnd = async (tx: PoolClient, run: JobRunDto) => {
    const ended = jobEndedEvent(run);
    await enqueueEvent(tx, deps.bus, ended.type, ended.data, enqueue);
  };

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
    const finished = await withTransaction(pool, async (tx) => {
      const run = await jobs.finishRun(tx, id, {
        status: outcome.ok ? "succeeded" : "failed",
        summary: clip(outcome.summary, 2000),
        findings: outcome.findings,
      });
      if (run) await announceEnd(tx, run);
      return run;
    });
    if (!finished) {
      logger.warn(
        { job: job.name, runId: id },
        `job ${job.name}: run ${id} was recorded as interrupted before it ended (${outcome.summary})`,
      );
      return;
    }
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
      const started = await begin({ id, job, trigger: "manual", scheduledAt: null, startedBy: actor });
      if (!started) throw new Error(`job run ${id} was not inserted`); // a manual run has no time to collide on
      launch(id, job);
      return started;
    },
    /** Fire a scheduled time once (false: it already fired). */
    async fire(job: JobRow, at: Date): Promise<boolean> {
      const id = randomUUID();
      const claimed = await begin({ id, job, trigger: "schedule", scheduledAt: at, startedBy: "schedule" });
      if (!claimed) return false;
      logger.info(
        { job: job.name, runId: id, at },
        `schedule of job ${job.name} at ${at.toISOString()} started run ${id}`,
      );
      launch(id, job);
      return true;
    },
    /**
     * Record and announce the runs whose instance stopped (their claim lapsed) as failed; the
     * schedules' lease holder calls it each tick. Returns how many it found.
     */
    async sweepInterrupted(): Promise<number> {
      const swept = await withTransaction(pool, async (tx) => {
        const runs = await jobs.failInterrupted(tx);
        for (const run of runs) await announceEnd(tx, run);
        return runs;
      });
      for (const run of swept)
        logger.warn({ job: run.job, runId: run.id }, `job ${run.job}: run ${run.id} was interrupted`);
      return swept.length;
    },
    /** Wait for the runs executing here. */
    async stop(): Promise<void> {
      await Promise.all([...inFlight]);
    },
  };
}
export type JobService = ReturnType<typeof createJobService>;
