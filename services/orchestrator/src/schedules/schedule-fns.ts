/** When a schedule is due. croner computes the times; nothing here reads a clock. */
import { Cron } from "croner";
import type { TriggerDefinition } from "../pipelines/pipeline-types.js";

export type ScheduleTrigger = Extract<TriggerDefinition, { type: "schedule" }>;
/** What any schedule (a pipeline's trigger, a job's) says about time. */
export type ScheduleTimes = Pick<ScheduleTrigger, "cron" | "timezone" | "misfireGraceSeconds">;

const cronOf = (t: ScheduleTimes) => new Cron(t.cron, { timezone: t.timezone, paused: true });

/**
 * The newest scheduled time at or before `now`, if it is within the misfire grace (a time missed
 * while no instance held the schedules is still fired once, the newest only); null otherwise.
 */
export function dueFireTime(t: ScheduleTimes, now: Date): Date | null {
  const [latest] = cronOf(t).previousRuns(1, now);
  if (!latest) return null;
  return now.getTime() - latest.getTime() <= t.misfireGraceSeconds * 1_000 ? latest : null;
}

export function nextFireTime(t: ScheduleTimes, now: Date): Date | null {
  return cronOf(t).nextRun(now);
}
