import { describe, expect, it } from "vitest";
import { dueFireTime, nextFireTime, type ScheduleTrigger } from "../../src/schedules/schedule-fns.js";

const nightly: ScheduleTrigger = {
  type: "schedule",
  cron: "0 30 2 * * *",
  timezone: "UTC",
  misfireGraceSeconds: 600,
};

describe("dueFireTime", () => {
  it("is the newest scheduled time while it is within the grace", () => {
    expect(dueFireTime(nightly, new Date("2026-03-10T02:30:00.200Z"))?.toISOString()).toBe(
      "2026-03-10T02:30:00.000Z",
    );
    expect(dueFireTime(nightly, new Date("2026-03-10T02:39:59Z"))?.toISOString()).toBe(
      "2026-03-10T02:30:00.000Z",
    );
    expect(dueFireTime(nightly, new Date("2026-03-10T02:40:01Z"))).toBeNull();
    expect(dueFireTime(nightly, new Date("2026-03-10T02:29:59Z"))).toBeNull();
  });

  it("reads the pattern in the trigger's time zone", () => {
    const paris = { ...nightly, timezone: "Europe/Paris" };
    // 02:30 in Paris is 01:30 UTC in winter.
    expect(dueFireTime(paris, new Date("2026-01-10T01:31:00Z"))?.toISOString()).toBe(
      "2026-01-10T01:30:00.000Z",
    );
    expect(nextFireTime(paris, new Date("2026-01-10T01:31:00Z"))?.toISOString()).toBe(
      "2026-01-11T01:30:00.000Z",
    );
  });
});
