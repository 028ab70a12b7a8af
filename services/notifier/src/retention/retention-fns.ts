/** How old a row must be to go. No I/O. */

export interface RetentionPolicy {
  /** Alerts (not firing), their history and delivered deliveries older than this go; 0 keeps them. */
  maxAgeMs: number;
  /** Dead letters older than this go; 0 keeps them. */
  deadLetterMaxAgeMs: number;
}

export interface RetentionCutoffs {
  /** null: keep everything of that kind. */
  records: Date | null;
  deadLetters: Date | null;
}

export const DAY_MS = 86_400_000;

export function retentionCutoffs(policy: RetentionPolicy, now: Date): RetentionCutoffs {
  const before = (ms: number) => (ms > 0 ? new Date(now.getTime() - ms) : null);
  return { records: before(policy.maxAgeMs), deadLetters: before(policy.deadLetterMaxAgeMs) };
}
