import { z } from "zod";
import { PipelineRun, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_SUCCEEDED = "nexus.pipeline.succeeded" as const;

/** Every step of a run passed. */
export const PipelineSucceeded = PipelineRun.extend({
  promotedRevision: z
    .number()
    .int()
    .min(1)
    .nullable()
    .describe("The target overlay revision the run wrote; null when the target already had that content"),
});
export type PipelineSucceeded = z.infer<typeof PipelineSucceeded>;

export const pipelineSucceededSubject = pipelineSubject(PIPELINE_SUCCEEDED);
