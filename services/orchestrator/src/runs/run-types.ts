import { z } from "zod";
import type { PipelineDefinition } from "../pipelines/pipeline-types.js";
import type { JsonObject, RunContext } from "../steps/step-types.js";

export const RunStatus = z.enum([
  "running",
  "awaiting-approval",
  "rolling-back",
  "succeeded",
  "failed",
  "rolled-back",
]);
export type RunStatus = z.infer<typeof RunStatus>;
export const ACTIVE_STATUSES: readonly RunStatus[] = ["running", "awaiting-approval", "rolling-back"];

export const StepStatus = z.enum(["pending", "running", "waiting", "succeeded", "failed"]);
export type StepStatus = z.infer<typeof StepStatus>;

export type Trigger = "manual" | "config.changed" | "config.change-requested" | "git.pushed" | "schedule";

export interface RunRow {
  id: string;
  pipeline: string;
  pipelineVersion: number;
  definition: PipelineDefinition;
  namespace: string;
  source: string;
  target: string;
  sourceRevision: number;
  trigger: Trigger;
  /** What started it, in words: the change request's id, the pushed branch and commit. */
  triggerDetail: string | null;
  startedBy: string;
  status: RunStatus;
  currentStep: number;
  context: RunContext;
  failure: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** Who asked to stop it (the executor stops it at its next look). */
  cancelRequestedBy: string | null;
}

export interface StepRow {
  index: number;
  name: string;
  type: string;
  status: StepStatus;
  attempts: number;
  state: JsonObject;
  summary: string | null;
  output: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export const StepDto = z.object({
  index: z.number().int(),
  name: z.string(),
  type: z.string(),
  status: StepStatus,
  attempts: z
    .number()
    .int()
    .describe("Times the step started; above 1 only when an instance died while it ran"),
  summary: z.string().nullable().describe("What the step did or is waiting for, in plain words"),
  output: z.string().nullable().describe("Captured output (run, http-hook) or the full list of problems"),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const DecisionDto = z.object({
  stepIndex: z.number().int(),
  actor: z.string(),
  decision: z.enum(["approve", "reject"]),
  comment: z.string(),
  decidedAt: z.string(),
});

export const RunDto = z.object({
  id: z.string(),
  pipeline: z.string(),
  pipelineVersion: z.number().int(),
  namespace: z.string(),
  source: z.string(),
  target: z.string(),
  sourceRevision: z.number().int(),
  trigger: z.string(),
  triggerDetail: z
    .string()
    .nullable()
    .describe("What started it: `change request <id>`, `push to <source>@<branch> (<commit>)`"),
  startedBy: z.string(),
  status: RunStatus,
  currentStep: z.number().int(),
  promotedRevision: z.number().int().nullable(),
  failure: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RunDto = z.infer<typeof RunDto>;

export const RunDetailDto = RunDto.extend({
  steps: z.array(StepDto),
  decisions: z.array(DecisionDto),
});
export type RunDetailDto = z.infer<typeof RunDetailDto>;

export const RunParams = z.object({ id: z.uuid() });
export const StartRunBody = z
  .strictObject({
    sourceRevision: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        "The source overlay revision to promote; default: its revision now (pinned for the whole run)",
      ),
  })
  .default({});
export const DecisionBody = z
  .strictObject({ comment: z.string().max(1000).default("") })
  .default({ comment: "" });
export const RunQuery = z.object({
  pipeline: z.string().max(63).optional(),
  status: RunStatus.optional(),
  namespace: z.string().max(63).optional(),
  sourceRevision: z.coerce
    .number()
    .int()
    .min(1)
    .max(2_147_483_647)
    .optional()
    .describe("Only runs that promote this source revision (the timeline of one change)"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type RunQuery = z.infer<typeof RunQuery>;

export const toStepDto = (s: StepRow): z.infer<typeof StepDto> => ({
  index: s.index,
  name: s.name,
  type: s.type,
  status: s.status,
  attempts: s.attempts,
  summary: s.summary,
  output: s.output,
  startedAt: s.startedAt?.toISOString() ?? null,
  finishedAt: s.finishedAt?.toISOString() ?? null,
});

export const toRunDto = (r: RunRow): RunDto => ({
  id: r.id,
  pipeline: r.pipeline,
  pipelineVersion: r.pipelineVersion,
  namespace: r.namespace,
  source: r.source,
  target: r.target,
  sourceRevision: r.sourceRevision,
  trigger: r.trigger,
  triggerDetail: r.triggerDetail,
  startedBy: r.startedBy,
  status: r.status,
  currentStep: r.currentStep,
  promotedRevision: r.context.promotedRevision ?? null,
  failure: r.failure,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
});
