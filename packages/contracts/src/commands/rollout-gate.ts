import { z } from "zod";
import { EnvironmentName, NamespaceName } from "../identifiers.js";
import { CommandErrorReply } from "./command-error.js";

/**
 * Request/reply (served by the config-registry): open or close a wave rollout's gate on one
 * (namespace, environment). While a gate is open, every `config.changed` of that place says
 * `rolloutGate: true` and the SDK asks the orchestrator before applying; with none open it says
 * `false` and the SDK applies without asking. The orchestrator opens the gate before it commits a
 * rollout plan and closes it after the plan completes or is aborted: a revision committed after
 * a plan is therefore always marked, since the gate is part of the namespace's write state (the
 * write swap orders them). Sent to `nexus.config.cmd.rollout-gate.<environment>.<namespace>`;
 * the body must name the subject's target. Idempotent: opening an open gate or closing a closed
 * one changes nothing.
 */
export const ROLLOUT_GATE_COMMAND = "nexus.config.cmd.rollout-gate" as const;

export const RolloutGateCommand = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  environment: EnvironmentName,
  /** The pipeline run whose rollout this gate is for: each run opens and closes its own. */
  runId: z.uuid(),
  open: z.boolean().describe("true: open this run's gate; false: close it"),
});
export type RolloutGateCommand = z.infer<typeof RolloutGateCommand>;

export const rolloutGateSubject = (d: Pick<RolloutGateCommand, "environment" | "namespace">) =>
  `${ROLLOUT_GATE_COMMAND}.${d.environment}.${d.namespace}`;

export const RolloutGateReply = z.union([
  z.object({
    ok: z.literal(true),
    namespace: NamespaceName,
    environment: EnvironmentName,
    runIds: z.array(z.string()).describe("The runs whose gates are open on this place now"),
  }),
  CommandErrorReply,
]);
export type RolloutGateReply = z.infer<typeof RolloutGateReply>;
