import { z } from "zod";
import { PipelineRun, PipelineStepRef, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_STEP_STARTED = "nexus.pipeline.step-started" as const;

/** A step of a run started; `attempt` > 1 when an instance that died had started it before. */
export const PipelineStepStarted = PipelineRun.extend({
  step: PipelineStepRef,
  attempt: z.number().int().min(1),
});
export type PipelineStepStarted = z.infer<typeof PipelineStepStarted>;

export const pipelineStepStartedSubject = pipelineSubject(PIPELINE_STEP_STARTED);
