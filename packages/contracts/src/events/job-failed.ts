import type { z } from "zod";
import { JobRunOutcome, jobSubject } from "./job-run.js";

export const JOB_FAILED = "nexus.job.failed" as const;

/**
 * A maintenance job's run found problems (a scan's findings, a drill's restore that did not
 * match) or could not finish (a dependency away, a timeout); `summary` says which.
 */
export const JobFailed = JobRunOutcome.extend({});
export type JobFailed = z.infer<typeof JobFailed>;

export const jobFailedSubject = jobSubject(JOB_FAILED);
