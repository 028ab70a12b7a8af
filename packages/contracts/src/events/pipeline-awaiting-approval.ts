import { z } from "zod";
import { PipelineRun, PipelineStepRef, pipelineSubject } from "./pipeline-run.js";

export const PIPELINE_AWAITING_APPROVAL = "nexus.pipeline.awaiting-approval" as const;

/** A run waits for approvals (role approver, never the run's author) before it goes on. */
export const PipelineAwaitingApproval = PipelineRun.extend({
  step: PipelineStepRef,
  approvalsRequired: z.number().int().min(1),
  approvalsGiven: z.number().int().min(0),
  author: z.string().min(1).describe("Who started the run; may not approve it"),
});
export type PipelineAwaitingApproval = z.infer<typeof PipelineAwaitingApproval>;

export const pipelineAwaitingApprovalSubject = pipelineSubject(PIPELINE_AWAITING_APPROVAL);
