import { z } from "zod";
import { EnvironmentName, NamespaceName, ResourceName } from "../identifiers.js";

export const ROLLOUT_PROGRESSED = "nexus.rollout.progressed" as const;

/**
 * A wave rollout of a namespace in one environment moved: it `started` (instances outside the
 * released waves hold revisions newer than `holdRevision`), released its next wave, `completed`
 * (every instance may run the newest revision) or was `aborted` (instances outside the released
 * waves never get `targetRevision`; the next revision, the rollback's, reaches everyone). Instances that hold a revision ask again (`nexus.rollout.cmd.target`) when they
 * hear it; the subject ends in `<environment>.<namespace>` so NATS permissions scope it.
 */
export const RolloutProgressed = z.object({
  schemaVersion: z.literal(1),
  rolloutId: z.uuid().describe("The pipeline run that rolls out"),
  pipeline: ResourceName,
  namespace: NamespaceName,
  environment: EnvironmentName,
  holdRevision: z
    .number()
    .int()
    .min(0)
    .describe("The resolved revision instances outside the released waves keep"),
  targetRevision: z
    .number()
    .int()
    .min(1)
    .nullable()
    .describe("The revision being rolled out (null until the promotion wrote it)"),
  waves: z.number().int().min(1).describe("How many waves the rollout has"),
  releasedWaves: z.number().int().min(0).describe("Waves whose instances may run the target revision"),
  status: z.enum(["started", "wave-released", "completed", "aborted"]),
});
export type RolloutProgressed = z.infer<typeof RolloutProgressed>;

export const rolloutProgressedSubject = (d: Pick<RolloutProgressed, "environment" | "namespace">) =>
  `${ROLLOUT_PROGRESSED}.${d.environment}.${d.namespace}`;
