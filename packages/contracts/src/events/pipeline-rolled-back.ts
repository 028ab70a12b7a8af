import { z } from "zod";
import { PipelineRun, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_ROLLED_BACK = "nexus.pipeline.rolled-back" as const;

/** A run put the target environment back on the last revision that passed. */
export const PipelineRolledBack = PipelineRun.extend({
  fromRevision: z.number().int().min(0).describe("The target overlay revision before the rollback"),
  toRevision: z
    .number()
    .int()
    .min(0)
    .describe("The revision whose content was restored (0: the overlay did not exist)"),
  revision: z.number().int().min(1).describe("The revision the rollback wrote"),
  reason: z.string().min(1).max(2000),
});
export type PipelineRolledBack = z.infer<typeof PipelineRolledBack>;

export const pipelineRolledBackSubject = pipelineSubject(PIPELINE_ROLLED_BACK);
