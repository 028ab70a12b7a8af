/** What a silence change did, without I/O: the record kept in each version and the field diff. */
import type { SilenceChange, SilenceRecord } from "./silence-types.js";

const FIELDS = ["matchers", "startsAt", "endsAt", "comment", "expiredBy"] as const;

/** Field by field, what differs between two states of a silence (`before` null: it was created). */
export function silenceChanges(before: SilenceRecord | null, after: SilenceRecord): SilenceChange[] {
  const out: SilenceChange[] = [];
  for (const field of FIELDS) {
    const from = before ? before[field] : null;
    const to = after[field];
    if (JSON.stringify(from) !== JSON.stringify(to)) out.push({ field, from: from ?? null, to: to ?? null });
  }
  return out;
}
