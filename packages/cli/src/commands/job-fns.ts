/** Pure helpers of `nexus job`: maintenance jobs and their runs in words. */
import type { JobDto, JobRunDto } from "@nexus/contracts";

/** What a kind of job does while it runs, for the progress line. */
const WORK_WORDS: Record<string, string> = {
  "compliance-scan": "checking each environment's resolved document against its schema and policies",
  "backup-drill": "the backup service is restoring its newest backup into a scratch schema and comparing it",
};

/** `*\/5 * * * * (UTC)` or `-` without a schedule. */
export function scheduleWords(job: JobDto): string {
  const schedule = job.definition.schedule as { cron?: string; timezone?: string } | undefined;
  if (!schedule?.cron) return "-";
  return schedule.timezone ? `${schedule.cron} (${schedule.timezone})` : schedule.cron;
}

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

/** One line while a run is going: what it does and for how long so far. */
export function jobProgressLine(run: JobRunDto, elapsedMs: number): string {
  const work = WORK_WORDS[run.kind] ?? "working";
  return `job ${run.job} (${run.kind}): ${work}; ${seconds(elapsedMs)} so far`;
}

/** `job run <id> of scan (compliance-scan), by hand by root: failed in 3 s`. */
export function jobRunHeadline(run: JobRunDto): string {
  const by =
    run.trigger === "schedule"
      ? `on its schedule (${run.scheduledAt ?? "?"})`
      : `by hand by ${run.startedBy}`;
  const took = run.finishedAt
    ? ` in ${seconds(Date.parse(run.finishedAt) - Date.parse(run.startedAt))}`
    : ` since ${run.startedAt}`;
  return `job run ${run.id} of ${run.job} (${run.kind}), ${by}: ${run.status}${took}`;
}

/** Where a finding is: `shop/production /db/ssl`, or `system` for one about no namespace. */
export function findingPlace(f: JobRunDto["findings"][number]): string {
  const where = [f.namespace, f.environment].filter(Boolean).join("/") || "system";
  return f.path ? `${where} ${f.path}` : where;
}
