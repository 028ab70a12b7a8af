import { createLease, type Logger, type Pool, withTransaction } from "@nexus/kit";
import type { RegistryClient } from "../clients/registry-client.js";
import type { PipelineStore } from "../pipelines/pipeline-store.js";
import type { PipelineDefinition, PipelineDto } from "../pipelines/pipeline-types.js";
import type { RunService } from "../runs/run-service.js";
import { dueFireTime, type ScheduleTimes, type ScheduleTrigger } from "./schedule-fns.js";
import type { ScheduleStore } from "./schedule-store.js";

export const schedulesOf = (p: PipelineDto): ScheduleTrigger[] =>
  (p.definition as unknown as PipelineDefinition).triggers.filter(
    (t): t is ScheduleTrigger => t.type === "schedule",
  );

/** What the scheduler asks of the maintenance jobs (`jobs/job-service` answers it). */
export interface ScheduledJobs {
  rows(): Promise<{ name: string; definition: { schedule?: ScheduleTimes | undefined } }[]>;
  /** Start a run of `job` (one of `rows()`) for the scheduled time `at`, once per time. */
  fire(job: { name: string }, at: Date): Promise<boolean>;
  /** Record job runs whose instance stopped as failed (and announce them). */
  sweepInterrupted(): Promise<number>;
}

/**
 * Fires scheduled pipelines and maintenance jobs. One instance holds the schedules (a Postgres advisory lease) and
 * looks every `tickMs` for a scheduled time that passed (within its misfire grace) and has not
 * fired; the time is recorded with the run it starts, in one transaction. A time missed while no
 * instance held the lease fires once when one takes it, if still within the grace.
 */
export function createScheduler(deps: {
  pool: Pool;
  databaseUrl: string;
  schema: string;
  logger: Logger;
  pipelines: PipelineStore;
  schedules: ScheduleStore;
  runs: Pick<RunService, "startFromEvent">;
  registry: Pick<RegistryClient, "layer">;
  /** Maintenance jobs with schedules fire here too, under the same lease and misfire rule. */
  jobs?: ScheduledJobs;
  /** How often the lease holder records job runs whose instance stopped as failed (and announces them). */
  jobSweepMs?: number;
  tickMs: number;
  leaseRetryMs: number;
  wake(): void;
}) {
  const { pool, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let active = false;
  let running: Promise<void> | undefined;
  let sweptAt = 0;

  async function fire(p: PipelineDto, at: Date): Promise<void> {
    if (await deps.schedules.fired(pool, p.name, at)) return;
    // A registry that does not answer leaves the time unfired: the next tick tries again.
    const sourceRevision = (await deps.registry.layer(p.namespace, p.source)).revision;
    const started = await withTransaction(pool, async (tx) => {
      const note =
        sourceRevision === 0 ? `the ${p.source} overlay was never written; nothing to promote` : "";
      if (!(await deps.schedules.claim(tx, p.name, at, note))) return null;
      if (sourceRevision === 0) return null;
      const id = await deps.runs.startFromEvent(tx, p, sourceRevision, "schedule", "schedule");
      await deps.schedules.setRun(tx, p.name, at, id);
      return id;
    });
    if (started) {
      logger.info(
        { pipeline: p.name, runId: started, at },
        `schedule of ${p.name} at ${at.toISOString()} started run ${started}`,
      );
      deps.wake();
    }
  }

  async function tickJobs(now: Date): Promise<void> {
    for (const job of (await deps.jobs?.rows()) ?? []) {
      const due = job.definition.schedule ? dueFireTime(job.definition.schedule, now) : null;
      if (!due) continue;
      await deps
        .jobs!.fire(job, due)
        .catch((err) =>
          logger.warn(
            { err, job: job.name },
            `could not fire the schedule of job ${job.name}; the next tick retries`,
          ),
        );
    }
  }

  async function sweepJobs(now: Date): Promise<void> {
    if (!deps.jobs || now.getTime() - sweptAt < (deps.jobSweepMs ?? 10_000)) return;
    sweptAt = now.getTime();
    await deps.jobs
      .sweepInterrupted()
      .catch((err) => logger.warn({ err }, "could not record interrupted job runs; the next sweep retries"));
  }

  async function tick(): Promise<void> {
    const now = new Date();
    await tickJobs(now);
    await sweepJobs(now);
    for (const p of await deps.pipelines.list(pool)) {
      for (const t of schedulesOf(p)) {
        const due = dueFireTime(t, now);
        if (!due) continue;
        await fire(p, due).catch((err) =>
          logger.warn(
            { err, pipeline: p.name },
            `could not fire the schedule of ${p.name}; the next tick retries`,
          ),
        );
      }
    }
  }

  const loop = () => {
    if (!active) return;
    running = tick()
      .catch((err) => logger.warn({ err }, "a schedule pass failed; the next one retries"))
      .finally(() => {
        if (active) {
          timer = setTimeout(loop, deps.tickMs);
          timer.unref();
        }
      });
  };

  const lease = createLease({
    databaseUrl: deps.databaseUrl,
    name: `orchestrator-schedules:${deps.schema}`,
    channel: `${deps.schema}_schedules`,
    retryMs: deps.leaseRetryMs,
    logger,
    onAcquired() {
      active = true;
      loop();
    },
    onLost() {
      active = false;
      clearTimeout(timer);
    },
    onNotify() {},
  });

  return {
    start: () => lease.start(),
    async stop() {
      active = false;
      clearTimeout(timer);
      await running;
      await lease.stop();
    },
    held: () => lease.held(),
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
