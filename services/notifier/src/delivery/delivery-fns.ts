/** Retry timing after an attempt. No I/O. */
import type { SendOutcome } from "../receivers/send-outcome-fns.js";

export type { SendOutcome };

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base·2^(attempt-1))], at least base/2. */
export function backoffMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(Math.floor(policy.baseMs / 2), Math.floor(random() * ceiling));
}

/**
 * Decide the row's next state after one attempt. A retry is a delay, not a time: the store adds it
 * to the database's clock, so a notifier whose own clock is off schedules it on time anyway.
 */
export function nextState(
  outcome: SendOutcome,
  attempts: number,
  maxAttempts: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): { status: "delivered" } | { status: "pending"; retryInMs: number } | { status: "dead"; reason: string } {
  switch (outcome.kind) {
    case "delivered":
      return { status: "delivered" };
    case "postpone":
      return { status: "pending", retryInMs: outcome.afterMs };
    case "fail":
      return { status: "dead", reason: `not retried: ${outcome.error}` };
    case "retry": {
      if (attempts >= maxAttempts) {
        return { status: "dead", reason: `gave up after ${attempts} attempts; last: ${outcome.error}` };
      }
      // The receiver said when: that wins over our own backoff.
      const wait = outcome.afterMs ?? backoffMs(attempts, policy, random);
      return { status: "pending", retryInMs: wait };
    }
  }
}
