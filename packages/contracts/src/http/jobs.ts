import { z } from "zod";
import { JobKindDto, JobRunTrigger } from "../events/job-run.js";

/**
 * Maintenance jobs as the orchestrator's `/v1/jobs…` and `/v1/job-runs/{id}` show them (admins
 * only): `nexus job`, and the `job.*` events' outcome. A job's definition is the orchestrator's.
 */

export const JobDto = z
  .object({
    name: z.string(),
    kind: JobKindDto,
    definition: z.record(z.string(), z.unknown()),
    updatedBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    nextRunAt: z.string().nullable().describe("The next scheduled time; null without a schedule"),
  })
  .meta({ id: "Job" });
export type JobDto = z.infer<typeof JobDto>;

export const JobListDto = z.object({ items: z.array(JobDto) });
export type JobListDto = z.infer<typeof JobListDto>;

export const JobFinding = z
  .object({
    namespace: z.string().nullable(),
    environment: z.string().nullable(),
    kind: z.string().describe("schema, policy, unreadable, backup"),
    path: z.string().nullable().describe("Where in the document (JSON pointer), when it is about a value"),
    message: z.string(),
  })
  .meta({ id: "JobFinding" });
export type JobFinding = z.infer<typeof JobFinding>;

export const JobRunStatus = z.enum(["running", "succeeded", "failed"]);
export type JobRunStatus = z.infer<typeof JobRunStatus>;

export const JobRunDto = z
  .object({
    id: z.uuid(),
    job: z.string(),
    kind: z.string(),
    trigger: JobRunTrigger,
    scheduledAt: z.string().nullable().describe("The scheduled time it fired for"),
    startedBy: z.string(),
    status: JobRunStatus.describe("failed: it found problems or could not finish (see summary)"),
    summary: z.string(),
    findings: z.array(JobFinding),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: "JobRun" });
export type JobRunDto = z.infer<typeof JobRunDto>;

export const JobRunListDto = z.object({ items: z.array(JobRunDto) });
export type JobRunListDto = z.infer<typeof JobRunListDto>;
