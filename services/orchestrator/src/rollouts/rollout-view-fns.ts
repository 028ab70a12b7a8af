/** A rollout as the read API shows it: its waves, which one is current, each instance's state. No I/O. */
import type { RolloutDetailDto, RolloutMemberDto, RolloutSummaryDto, RolloutWaveDto } from "@nexus/contracts";
import type { InstanceView } from "../clients/drift-client.js";
import { waveOf } from "./rollout-fns.js";
import type { RolloutPlan, RolloutRecord } from "./rollout-types.js";

export function toRolloutSummary(r: RolloutRecord): RolloutSummaryDto {
  return {
    id: r.runId,
    pipeline: r.pipeline,
    namespace: r.namespace,
    environment: r.environment,
    status: r.status,
    holdRevision: r.holdRevision,
    targetRevision: r.targetRevision,
    waveCount: r.waves.length,
    releasedWaves: r.releasedWaves,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** The wave being waited on: the newest released one while the rollout is active. */
export const currentWaveOf = (plan: RolloutPlan): number | null =>
  plan.status === "active" && plan.releasedWaves > 0 ? plan.releasedWaves : null;

export function wavesOf(plan: RolloutPlan): RolloutWaveDto[] {
  const current = currentWaveOf(plan);
  return plan.waves.map((selector, i) => ({
    wave: i + 1,
    selector,
    released: plan.status === "completed" || i + 1 <= plan.releasedWaves,
    current: current === i + 1,
  }));
}

const ORDER: Record<string, number> = { live: 0, cache: 1, stopping: 2, unknown: 3, gone: 4 };

/**
 * Each instance of the place with its wave and what the rollout lets it run. An instance may run
 * the target once its wave is released or the rollout completed; an aborted rollout holds everyone
 * who had not got it on the hold revision (the rollback follows with a newer one).
 */
export function membersOf(
  plan: RolloutPlan,
  instances: readonly InstanceView[],
  labels: ReadonlyMap<string, Record<string, string>>,
): RolloutMemberDto[] {
  const target = plan.targetRevision;
  return [...instances]
    .sort(
      (a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || a.instanceId.localeCompare(b.instanceId),
    )
    .map((i) => {
      const own = labels.get(i.instanceId);
      const placed = waveOf(plan.waves, { instanceId: i.instanceId, labels: own });
      const wave = placed === "unknown" ? null : placed;
      const released =
        plan.status === "completed" ||
        (plan.status === "active" && wave !== null && wave <= plan.releasedWaves);
      const runsTarget = target !== null && i.revision !== null && i.revision >= target;
      const rejected = target !== null && i.rejected !== null && i.rejected.revision >= target;
      const state: RolloutMemberDto["state"] = runsTarget
        ? "applied"
        : rejected
          ? "rejected"
          : released && target !== null
            ? "applying"
            : placed === "unknown"
              ? "unplaced"
              : "held";
      return {
        instanceId: i.instanceId,
        wave,
        labels: own ?? null,
        status: i.status,
        state,
        targetRevision: released && target !== null ? target : runsTarget ? i.revision : plan.holdRevision,
        ackedRevision: i.revision,
        rejectedRevision: i.rejected?.revision ?? null,
        rejectedReason: i.rejected?.reason ?? null,
      };
    });
}

export function rolloutDetail(
  r: RolloutRecord,
  inventory: { members: RolloutMemberDto[]; error: string | null },
): RolloutDetailDto {
  return {
    ...toRolloutSummary(r),
    waves: wavesOf(r),
    currentWave: currentWaveOf(r),
    members: inventory.members,
    inventoryError: inventory.error,
  };
}
