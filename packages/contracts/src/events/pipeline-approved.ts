import { z } from "zod";
import { PipelineRun, PipelineStepRef, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_APPROVED = "nexus.pipeline.approved" as const;

/** An approve step got the approvals it needs; the run goes on. */
export const PipelineApproved = PipelineRun.extend({
  step: PipelineStepRef,
  approvers: z.array(z.string().min(1)).min(1),
});
export type PipelineApproved = z.infer<typeof PipelineApproved>;

export const pipelineApprovedSubject = pipelineSubject(PIPELINE_APPROVED);
