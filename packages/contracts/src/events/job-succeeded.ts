import type { z } from "zod";
import { JobRunOutcome, jobSubject } from "./job-run.js";

export const JOB_SUCCEEDED = "nexus.job.succeeded" as const;

/** A maintenance job's run finished without a finding (a scan found nothing, a drill's restore matched). */
export const JobSucceeded = JobRunOutcome.extend({});
export type JobSucceeded = z.infer<typeof JobSucceeded>;

export const jobSucceededSubject = jobSubject(JOB_SUCCEEDED);
