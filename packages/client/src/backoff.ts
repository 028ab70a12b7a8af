/** Retry and poll timing. Pure: `random` is injectable so the bounds can be tested exactly. */

export interface BackoffPolicy {
  /** Delay around the first retry. */
  baseMs: number;
  /** The delay never grows past this. */
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half of the exponential step is fixed, half random.
 * Instances that lost Nexus together do not come back in lockstep, yet none retries at once.
 * `attempt` counts from 1.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * A polling interval spread by ±`spread` (0.2 = ±20%), so a fleet started together does not poll
 * the registry in waves.
 */
export function jitteredInterval(
  intervalMs: number,
  spread = 0.2,
  random: () => number = Math.random,
): number {
  const width = intervalMs * spread;
  return Math.max(1, Math.round(intervalMs - width + random() * 2 * width));
}

export interface CheckState {
  /** Consecutive failed reads. */
  readFailures: number;
  /** Reads in a row that came back older than an announced change. */
  staleReads: number;
  /** An announced change has not been read yet. */
  waitingForAnnounced: boolean;
  pollIntervalMs: number;
}

/**
 * When to look at Nexus next: soon after failures (backing off, never slower than the poll
 * interval or 30 s), very soon while a read lags an announcement, else at the jittered poll
 * interval.
 */
export function nextCheckDelay(state: CheckState, random: () => number = Math.random): number {
  if (state.readFailures > 0) {
    const maxMs = Math.min(state.pollIntervalMs, 30_000);
    return backoffDelay(state.readFailures, { baseMs: Math.min(500, maxMs), maxMs }, random);
  }
  if (state.waitingForAnnounced) return backoffDelay(state.staleReads, { baseMs: 50, maxMs: 2_000 }, random);
  return jitteredInterval(state.pollIntervalMs, 0.2, random);
}
