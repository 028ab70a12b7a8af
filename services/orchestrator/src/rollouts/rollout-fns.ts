/** Which wave an instance belongs to, and what a rollout lets it run. No I/O. */
import { createHash } from "node:crypto";
import type { WaveSelector } from "../pipelines/pipeline-types.js";
import type { RolloutPlan } from "./rollout-types.js";

/** A stable place for an instance in [0, 100): the same id always lands in the same percentile. */
export function percentileOf(instanceId: string): number {
  const digest = createHash("sha256").update(instanceId).digest();
  return (digest.readUInt32BE(0) % 10_000) / 100;
}

const labelsMatch = (want: Record<string, string>, have: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => have[k] === v);

/**
 * The first wave (1-based) whose selector takes this instance, or null: it waits for the end of
 * the rollout. Labels are unknown (undefined) for an instance that never asked: label waves cannot
 * place it, percentage waves can.
 */
export function waveOf(
  waves: readonly WaveSelector[],
  instance: { instanceId: string; labels: Record<string, string> | undefined },
): number | null | "unknown" {
  const percentile = percentileOf(instance.instanceId);
  let unknown = false;
  for (const [i, w] of waves.entries()) {
    if ("percent" in w) {
      if (percentile < w.percent) return i + 1;
    } else if (instance.labels === undefined) unknown = true;
    else if (labelsMatch(w.labels, instance.labels)) return i + 1;
  }
  return unknown ? "unknown" : null;
}

export type TargetDecision =
  | { decision: "apply" }
  | { decision: "hold"; holdRevision: number; wave: number | null; releasedWaves: number };

/**
 * May an instance apply `revision`? Yes without a rollout, at or below the hold revision, after the
 * rollout completed, or once its wave is released; otherwise it keeps what it runs. An aborted
 * rollout still holds the revision it was rolling out (and those before it), so instances of later
 * waves never run it: they move on with the next revision, the rollback's.
 */
export function targetFor(
  plan: RolloutPlan | null,
  instance: { instanceId: string; labels: Record<string, string> },
  revision: number,
): TargetDecision {
  if (!plan || plan.status === "completed" || revision <= plan.holdRevision) return { decision: "apply" };
  if (plan.status === "aborted" && (plan.targetRevision === null || revision > plan.targetRevision))
    return { decision: "apply" };
  const wave = waveOf(plan.waves, instance);
  const placed = wave === "unknown" ? null : wave;
  if (placed !== null && placed <= plan.releasedWaves) return { decision: "apply" };
  return {
    decision: "hold",
    holdRevision: plan.holdRevision,
    wave: placed,
    releasedWaves: plan.releasedWaves,
  };
}

export interface WaveInstance {
  instanceId: string;
  revision: number | null;
  status: string;
  rejected: { revision: number; reason: string | null } | null;
  /** From the instance's question; undefined when it never asked. */
  labels: Record<string, string> | undefined;
}

export interface WaveProgress {
  /** Live instances in the released waves. */
  members: number;
  applied: number;
  rejected: { instanceId: string; reason: string }[];
  /** Live instances not yet placed (label waves, never asked) that do not run the target yet. */
  unplaced: number;
  /** Live instances outside the released waves that already run the target (their SDK does not ask). */
  early: number;
}

/** How far the released waves are with `targetRevision`. */
export function waveProgress(
  waves: readonly WaveSelector[],
  releasedWaves: number,
  instances: readonly WaveInstance[],
  targetRevision: number,
): WaveProgress {
  const progress: WaveProgress = { members: 0, applied: 0, rejected: [], unplaced: 0, early: 0 };
  for (const i of instances) {
    if (i.status !== "live" && i.status !== "cache") continue;
    const runsTarget = i.revision !== null && i.revision >= targetRevision;
    const wave = waveOf(waves, i);
    if (wave === "unknown") {
      if (!runsTarget) progress.unplaced += 1;
      continue;
    }
    if (wave === null || wave > releasedWaves) {
      if (runsTarget) progress.early += 1;
      continue;
    }
    progress.members += 1;
    if (runsTarget) progress.applied += 1;
    if (i.rejected && i.rejected.revision >= targetRevision)
      progress.rejected.push({ instanceId: i.instanceId, reason: i.rejected.reason ?? "no reason given" });
  }
  return progress;
}
