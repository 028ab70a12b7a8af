import { z } from "zod";
import { PipelineRun, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_STARTED = "nexus.pipeline.started" as const;

/** A run of a pipeline started (manually, on an event or on a schedule). */
export const PipelineStarted = PipelineRun.extend({
  trigger: z.enum(["manual", "config.changed", "config.change-requested", "git.pushed", "schedule"]),
  startedBy: z.string().min(1),
  sourceRevision: z
    .number()
    .int()
    .min(1)
    .describe("The source overlay revision this run promotes, pinned at start"),
});
export type PipelineStarted = z.infer<typeof PipelineStarted>;

export const pipelineStartedSubject = pipelineSubject(PIPELINE_STARTED);
