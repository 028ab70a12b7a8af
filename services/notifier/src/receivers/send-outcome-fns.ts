/** What an answer from a receiver means for the delivery. No I/O. */

/** `Retry-After` in seconds or as an HTTP date; null when absent or unreadable. Capped at one hour. */
export function parseRetryAfter(value: string | undefined | null, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, 3_600_000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now.getTime()), 3_600_000);
}

/**
 * The clock a `Retry-After` date is read against: the receiver's own, from its `Date` header, when
 * it sent one (a notifier whose clock is off would otherwise wait too long or not at all);
 * otherwise this process's.
 */
export function receiverNow(dateHeader: string | undefined | null, localNow: number): Date {
  const at = dateHeader ? Date.parse(dateHeader) : Number.NaN;
  return new Date(Number.isNaN(at) ? localNow : at);
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
