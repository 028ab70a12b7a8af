import type { z } from "zod";
import { JobRun, jobSubject } from "./job-run.js";

export const JOB_STARTED = "nexus.job.started" as const;

/** A maintenance job's run started: by hand, or on its schedule (once per scheduled time). */
export const JobStarted = JobRun.extend({});
export type JobStarted = z.infer<typeof JobStarted>;

export const jobStartedSubject = jobSubject(JOB_STARTED);
