import { z } from "zod";
import { ResourceName } from "../identifiers.js";

/** The kinds of maintenance job (the orchestrator's `/v1/jobs` shows them too). */
export const JobKindDto = z.enum(["compliance-scan", "backup-drill"]);
export type JobKindDto = z.infer<typeof JobKindDto>;

/** How a run started. */
export const JobRunTrigger = z.enum(["schedule", "manual"]);
export type JobRunTrigger = z.infer<typeof JobRunTrigger>;

/**
 * What every `job.*` event carries: which run of which maintenance job (a compliance scan, a
 * backup drill), how it started. Subjects end in `<kind>.<job>`, so a consumer can follow one
 * kind (every backup drill) or one job. Findings stay with the run (`GET /v1/job-runs/{id}`):
 * events carry counts, not documents' paths and messages.
 */
export const JobRun = z.object({
  schemaVersion: z.literal(1),
  runId: z.uuid(),
  job: ResourceName.describe("The job's name"),
  kind: JobKindDto,
  trigger: JobRunTrigger,
  scheduledAt: z.iso
    .datetime({ offset: true })
    .nullable()
    .describe("The scheduled time it fired for; null when started by hand"),
  startedBy: z.string().min(1).describe("Who started it (the token's subject), or `schedule`"),
});
export type JobRun = z.infer<typeof JobRun>;

/** How a finished run ended, in the events that end it. */
export const JobRunOutcome = JobRun.extend({
  summary: z.string().min(1).max(2000),
  findings: z.number().int().min(0).describe("How many findings the run recorded"),
  durationMs: z.number().int().min(0),
});
export type JobRunOutcome = z.infer<typeof JobRunOutcome>;

export const jobSubject =
  (root: string) =>
  (d: Pick<JobRun, "kind" | "job">): string =>
    `${root}.${d.kind}.${d.job}`;
