import { z } from "zod";
import { EnvironmentName, NamespaceName, ResourceName } from "../identifiers.js";

/**
 * What every `pipeline.*` event carries: which run of which pipeline version, promoting which
 * namespace from which environment to which. Subjects end in `<target environment>.<namespace>`,
 * so a consumer can follow one environment's promotions.
 */
export const PipelineRun = z.object({
  schemaVersion: z.literal(1),
  runId: z.uuid(),
  pipeline: ResourceName.describe("The pipeline's name"),
  pipelineVersion: z.number().int().min(1),
  namespace: NamespaceName,
  sourceEnvironment: EnvironmentName,
  environment: EnvironmentName.describe("The target environment"),
});
export type PipelineRun = z.infer<typeof PipelineRun>;

/** One step of a run: its position, its name in the pipeline, its type. */
export const PipelineStepRef = z.object({
  index: z.number().int().min(0),
  name: z.string().min(1).max(100),
  type: z.string().min(1).max(40),
});
export type PipelineStepRef = z.infer<typeof PipelineStepRef>;

export const pipelineSubject =
  (root: string) =>
  (d: Pick<PipelineRun, "environment" | "namespace">): string =>
    `${root}.${d.environment}.${d.namespace}`;
