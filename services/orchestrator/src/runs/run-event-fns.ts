/** The facts every `pipeline.*` event of a run carries. No I/O. */
import type { PipelineRun, PipelineStepRef } from "@nexus/contracts";
import type { RunRow, StepRow } from "./run-types.js";

export const runFacts = (
  run: Pick<RunRow, "id" | "pipeline" | "pipelineVersion" | "namespace" | "source" | "target">,
): PipelineRun => ({
  schemaVersion: 1,
  runId: run.id,
  pipeline: run.pipeline,
  pipelineVersion: run.pipelineVersion,
  namespace: run.namespace,
  sourceEnvironment: run.source,
  environment: run.target,
});

export const stepRef = (step: Pick<StepRow, "index" | "name" | "type">): PipelineStepRef => ({
  index: step.index,
  name: step.name,
  type: step.type,
});

/** Event text fields are bounded by their contracts; keep the start of a long reason. */
export const clip = (text: string, max = 2000): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** The automatic rollback runs as one more step after the pipeline's own. */
export const AUTO_ROLLBACK_STEP = { name: "rollback-on-failure", type: "rollback" } as const;
