import { ROLLOUT_PROGRESSED, type RolloutProgressed } from "@nexus/contracts";
import type { PoolClient } from "@nexus/kit";
import type { RolloutPlan } from "./rollout-types.js";

/** Enqueue a `rollout.progressed` in the caller's transaction (the outbox relays it). */
export type PublishRollout = (tx: PoolClient, data: RolloutProgressed) => Promise<void>;

export const ROLLOUT_EVENT = ROLLOUT_PROGRESSED;

export function rolloutProgressed(plan: RolloutPlan, status: RolloutProgressed["status"]): RolloutProgressed {
  return {
    schemaVersion: 1,
    rolloutId: plan.runId,
    pipeline: plan.pipeline,
    namespace: plan.namespace,
    environment: plan.environment,
    holdRevision: plan.holdRevision,
    targetRevision: plan.targetRevision,
    waves: Math.max(1, plan.waves.length),
    releasedWaves: plan.releasedWaves,
    status,
  };
}
