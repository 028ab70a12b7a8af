import { z } from "zod";
import { PipelineRun, PipelineStepRef, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_STEP_SUCCEEDED = "nexus.pipeline.step-succeeded" as const;

/** A step of a run finished; its outcome is stored and it will not run again. */
export const PipelineStepSucceeded = PipelineRun.extend({
  step: PipelineStepRef,
  summary: z.string().max(1000).describe("What the step did, in plain words"),
});
export type PipelineStepSucceeded = z.infer<typeof PipelineStepSucceeded>;

export const pipelineStepSucceededSubject = pipelineSubject(PIPELINE_STEP_SUCCEEDED);
