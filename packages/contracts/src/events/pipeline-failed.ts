import { z } from "zod";
import { PipelineRun, PipelineStepRef, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_FAILED = "nexus.pipeline.failed" as const;

/** A run stopped: a step failed, an approver rejected it, or it was cancelled. */
export const PipelineFailed = PipelineRun.extend({
  step: PipelineStepRef.nullable(),
  reason: z.string().min(1).max(2000),
  rolledBack: z.boolean().describe("Whether the target was rolled back"),
});
export type PipelineFailed = z.infer<typeof PipelineFailed>;

export const pipelineFailedSubject = pipelineSubject(PIPELINE_FAILED);
