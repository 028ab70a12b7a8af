import type { WaveSelector } from "../pipelines/pipeline-types.js";

export type RolloutStatus = "active" | "completed" | "aborted";

/** A run's wave rollout as stored (`rollouts`). */
export interface RolloutPlan {
  runId: string;
  pipeline: string;
  namespace: string;
  environment: string;
  holdRevision: number;
  targetRevision: number | null;
  waves: WaveSelector[];
  releasedWaves: number;
  status: RolloutStatus;
}

/** A rollout with when it started and last moved (the read API). */
export interface RolloutRecord extends RolloutPlan {
  createdAt: Date;
  updatedAt: Date;
}
