export interface RetentionPolicy {
  /** The N most recent completed backups are kept. */
  keepLast: number;
  /** The newest backup of each of the last D days (UTC) is kept. */
  dailyDays: number;
  /** The newest backup of each of the last W weeks (ISO weeks, UTC) is kept. */
  weeklyWeeks: number;
}

export interface RetentionCandidate {
  id: string;
  kind: "full" | "incremental";
  /** When the data was taken (the snapshot), ISO time. */
  snapshotAt: string;
  verified: boolean;
  /** An incremental's parent: kept as long as the incremental is. */
  parentId?: string | null;
}

const DAY_MS = 86_400_000;

/** `2026-W49` for a UTC time: ISO week (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeekOf(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / DAY_MS + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/**
 * Which completed backups to prune: everything not kept by one of the rules. Kept are the
 * `keepLast` newest, the newest of each of the last `dailyDays` days, the newest of each of the
 * last `weeklyWeeks` weeks, and always the newest verified full backup (the one a restore can
 * trust), whatever the policy says. A kept incremental keeps its whole chain: it cannot be
 * restored without its parents.
 */
export function backupsToPrune(backups: RetentionCandidate[], policy: RetentionPolicy, now: Date): string[] {
  const newestFirst = [...backups].sort(
    (a, b) => b.snapshotAt.localeCompare(a.snapshotAt) || b.id.localeCompare(a.id),
  );
  const keep = new Set<string>(newestFirst.slice(0, policy.keepLast).map((b) => b.id));

  const dayCutoff = now.getTime() - policy.dailyDays * DAY_MS;
  const seenDays = new Set<string>();
  const weekCutoff = now.getTime() - policy.weeklyWeeks * 7 * DAY_MS;
  const seenWeeks = new Set<string>();
  for (const b of newestFirst) {
    const t = new Date(b.snapshotAt);
    const day = b.snapshotAt.slice(0, 10);
    if (t.getTime() > dayCutoff && !seenDays.has(day)) {
      seenDays.add(day);
      keep.add(b.id);
    }
    const week = isoWeekOf(t);
    if (t.getTime() > weekCutoff && !seenWeeks.has(week)) {
      seenWeeks.add(week);
      keep.add(b.id);
    }
  }
  const lastVerifiedFull = newestFirst.find((b) => b.kind === "full" && b.verified);
  if (lastVerifiedFull) keep.add(lastVerifiedFull.id);
  const byId = new Map(backups.map((b) => [b.id, b]));
  for (const id of [...keep]) {
    for (let p = byId.get(id)?.parentId; p && !keep.has(p); p = byId.get(p)?.parentId) keep.add(p);
  }
  return newestFirst.filter((b) => !keep.has(b.id)).map((b) => b.id);
}
