import { describe, expect, it } from "vitest";
import { backupsToPrune, isoWeekOf, type RetentionCandidate } from "../../src/retention/retention-fns.js";

const now = new Date("2026-12-06T12:00:00Z");
const at = (daysAgo: number, hour = 2) => {
  const d = new Date(now.getTime() - daysAgo * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
};
const backup = (
  id: string,
  daysAgo: number,
  opts: Partial<RetentionCandidate> & { hour?: number } = {},
): RetentionCandidate => ({
  id,
  kind: "full",
  snapshotAt: at(daysAgo, opts.hour),
  verified: true,
  ...opts,
});

describe("retention", () => {
  it("keeps the N newest", () => {
    const all = [backup("a", 0), backup("b", 1), backup("c", 2)];
    expect(backupsToPrune(all, { keepLast: 2, dailyDays: 0, weeklyWeeks: 0 }, now)).toEqual(["c"]);
  });

  it("keeps the newest of each recent day and of each recent week", () => {
    const all = [
      backup("today-late", 0, { hour: 10 }),
      backup("today-early", 0, { hour: 1 }),
      backup("yesterday", 1),
      backup("ten-days-ago", 10),
      backup("eleven-days-ago", 11),
      backup("sixty-days-ago", 60),
    ];
    const pruned = backupsToPrune(all, { keepLast: 1, dailyDays: 3, weeklyWeeks: 3 }, now);
    expect(pruned).toContain("today-early");
    expect(pruned).not.toContain("yesterday");
    // Ten and eleven days ago (Thu 26 and Wed 25 Nov) fall in one ISO week: only the newer stays.
    expect(isoWeekOf(new Date(at(10)))).toBe(isoWeekOf(new Date(at(11))));
    expect(pruned).not.toContain("ten-days-ago");
    expect(pruned).toContain("eleven-days-ago");
    expect(pruned).toContain("sixty-days-ago");
  });

  it("never prunes the newest verified full backup, whatever the policy", () => {
    const all = [
      backup("new-unverified", 0, { verified: false }),
      backup("new-incremental", 0, { kind: "incremental", hour: 1 }),
      backup("old-verified", 40),
      backup("older-verified", 50),
    ];
    const pruned = backupsToPrune(all, { keepLast: 1, dailyDays: 0, weeklyWeeks: 0 }, now);
    expect(pruned).not.toContain("old-verified");
    expect(pruned).toEqual(["new-incremental", "older-verified"]);
  });

  it("numbers ISO weeks as ISO 8601 does at year ends", () => {
    expect(isoWeekOf(new Date("2026-01-01T00:00:00Z"))).toBe("2026-W01");
    expect(isoWeekOf(new Date("2027-01-01T00:00:00Z"))).toBe("2026-W53");
    expect(isoWeekOf(new Date("2024-12-30T00:00:00Z"))).toBe("2025-W01");
  });
});

describe("retention of incremental chains", () => {
  it("keeps every parent of a kept incremental", () => {
    const all: RetentionCandidate[] = [
      { id: "inc-2", kind: "incremental", snapshotAt: at(0, 3), verified: true, parentId: "inc-1" },
      { id: "inc-1", kind: "incremental", snapshotAt: at(0, 2), verified: true, parentId: "full-1" },
      { id: "full-1", kind: "full", snapshotAt: at(1), verified: false },
      { id: "full-0", kind: "full", snapshotAt: at(2), verified: false },
    ];
    expect(backupsToPrune(all, { keepLast: 1, dailyDays: 0, weeklyWeeks: 0 }, now)).toEqual(["full-0"]);
  });
});
