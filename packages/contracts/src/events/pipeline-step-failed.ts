import { z } from "zod";
import { PipelineRun, PipelineStepRef, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_STEP_FAILED = "nexus.pipeline.step-failed" as const;

/** A step of a run failed; the run stops (and rolls back what it promoted). */
export const PipelineStepFailed = PipelineRun.extend({
  step: PipelineStepRef,
  reason: z.string().min(1).max(2000),
});
export type PipelineStepFailed = z.infer<typeof PipelineStepFailed>;

export const pipelineStepFailedSubject = pipelineSubject(PIPELINE_STEP_FAILED);
