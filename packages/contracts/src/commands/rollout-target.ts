import { z } from "zod";
import { InstanceId, ServiceName } from "../events/config-applied.js";
import { EnvironmentName, NamespaceName } from "../identifiers.js";
import { CommandErrorReply } from "./command-error.js";

/**
 * Request/reply (served by the orchestrator): may this instance apply this resolved revision now,
 * or does a wave rollout hold it at an older one? The SDK asks before applying a newer revision;
 * nobody answering (no orchestrator) means apply. Sent to
 * `nexus.rollout.cmd.target.<environment>.<namespace>`; the body must name the subject's target.
 */
export const ROLLOUT_TARGET_COMMAND = "nexus.rollout.cmd.target" as const;

export const InstanceLabels = z
  .record(
    z.string().regex(/^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/, "lower-case label names"),
    z.string().max(200),
  )
  .refine((l) => Object.keys(l).length <= 20, "at most 20 labels")
  .describe("The instance's labels (zone, canary, ...), which wave selectors match");
export type InstanceLabels = z.infer<typeof InstanceLabels>;

export const RolloutTargetCommand = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  environment: EnvironmentName,
  service: ServiceName,
  instanceId: InstanceId,
  labels: InstanceLabels.default({}),
  revision: z.number().int().min(1).describe("The resolved revision the instance read and would apply"),
});
export type RolloutTargetCommand = z.input<typeof RolloutTargetCommand>;

export const rolloutTargetSubject = (d: Pick<RolloutTargetCommand, "environment" | "namespace">) =>
  `${ROLLOUT_TARGET_COMMAND}.${d.environment}.${d.namespace}`;

export const RolloutTargetReply = z.union([
  z
    .object({ ok: z.literal(true), decision: z.literal("apply") })
    .describe("No rollout holds this instance: apply the revision"),
  z
    .object({
      ok: z.literal(true),
      decision: z.literal("hold"),
      rolloutId: z.uuid(),
      holdRevision: z.number().int().min(0).describe("Keep running this revision (or the one you run)"),
      wave: z.number().int().min(1).nullable().describe("The wave this instance belongs to; null: the last"),
      releasedWaves: z.number().int().min(0),
    })
    .describe("A rollout holds this instance: keep the config in use until its wave is released"),
  CommandErrorReply,
]);
export type RolloutTargetReply = z.infer<typeof RolloutTargetReply>;
