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
