/** Retry timing and what an answer from a receiver means. No I/O. */

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

/** `Retry-After` in seconds or as an HTTP date; null when absent or unreadable. Capped at one hour. */
export function parseRetryAfter(value: string | undefined | null, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, 3_600_000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now.getTime()), 3_600_000);
}

export type SendOutcome =
  | { kind: "delivered"; statusCode: number | null }
  /** Try again later; `afterMs` when the receiver said when (Retry-After). */
  | { kind: "retry"; statusCode: number | null; error: string; afterMs?: number | undefined }
  /** Retrying cannot help (a 4xx other than 408/429, a refused address, a broken config). */
  | { kind: "fail"; statusCode: number | null; error: string }
  /** Not sent and not an attempt (a per-webhook rate limit slot later than the lease allows). */
  | { kind: "postpone"; afterMs: number };

/** What an HTTP status from a receiver means for the delivery. */
export function outcomeForStatus(
  status: number,
  retryAfter: string | null,
  now: Date,
  body: string,
): SendOutcome {
  if (status >= 200 && status < 300) return { kind: "delivered", statusCode: status };
  const error = `HTTP ${status}${body ? `: ${body.slice(0, 300)}` : ""}`;
  if (status === 429 || status === 408 || status >= 500) {
    return {
      kind: "retry",
      statusCode: status,
      error,
      afterMs: parseRetryAfter(retryAfter, now) ?? undefined,
    };
  }
  return { kind: "fail", statusCode: status, error };
}

/** Decide the row's next state after one attempt. */
export function nextState(
  outcome: SendOutcome,
  attempts: number,
  maxAttempts: number,
  policy: BackoffPolicy,
  now: Date,
  random: () => number = Math.random,
): { status: "delivered" } | { status: "pending"; nextAttemptAt: Date } | { status: "dead"; reason: string } {
  switch (outcome.kind) {
    case "delivered":
      return { status: "delivered" };
    case "postpone":
      return { status: "pending", nextAttemptAt: new Date(now.getTime() + outcome.afterMs) };
    case "fail":
      return { status: "dead", reason: `not retried: ${outcome.error}` };
    case "retry": {
      if (attempts >= maxAttempts) {
        return { status: "dead", reason: `gave up after ${attempts} attempts; last: ${outcome.error}` };
      }
      // The receiver said when: that wins over our own backoff.
      const wait = outcome.afterMs ?? backoffMs(attempts, policy, random);
      return { status: "pending", nextAttemptAt: new Date(now.getTime() + wait) };
    }
  }
}
