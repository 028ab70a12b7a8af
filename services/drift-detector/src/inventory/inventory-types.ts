/** What an instance runs, as of `at` (the report's event time, ms). */
export interface RunningState {
  revision: number;
  hash: string;
  status: "live" | "cache" | "stopping";
  at: number;
}

/** The newest revision an instance refused, or `null` revision: nothing refused (cleared). */
export interface RejectionState {
  revision: number | null;
  hash: string | null;
  reason: string | null;
  at: number;
}

/** One applied/rejected report kept for convergence figures. */
export interface RevisionReport {
  revision: number;
  status: "applied" | "rejected";
  at: number;
}

/**
 * Everything learnt about one instance since the last flush, already merged: the newest running
 * state, the newest rejection state, the latest sighting.
 */
export interface PendingInstance {
  namespace: string;
  environment: string;
  instanceId: string;
  service: string;
  running: RunningState | null;
  rejection: RejectionState | null;
  lastSeenAt: number;
  intervalSeconds: number | null;
  reports: RevisionReport[];
}

export const instanceKey = (i: Pick<PendingInstance, "namespace" | "environment" | "instanceId">) =>
  `${i.namespace}\u0000${i.environment}\u0000${i.instanceId}`;
