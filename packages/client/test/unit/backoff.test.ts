import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay, jitteredInterval, nextCheckDelay } from "../../src/backoff.js";

const policy = { baseMs: 500, maxMs: 30_000 };

describe("backoffDelay", () => {
  it("doubles per attempt between half and all of the step, up to the cap", () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(250);
    expect(backoffDelay(1, policy, () => 1)).toBe(500);
    expect(backoffDelay(3, policy, () => 0)).toBe(1_000);
    expect(backoffDelay(3, policy, () => 1)).toBe(2_000);
    expect(backoffDelay(50, policy, () => 1)).toBe(30_000);
    expect(backoffDelay(50, policy, () => 0)).toBe(15_000);
  });

  it("property: always within [step/2, step] and never above the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => {
          const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
          const d = backoffDelay(attempt, policy, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(d).toBeLessThanOrEqual(Math.min(step, policy.maxMs));
        },
      ),
    );
  });
});

describe("jitteredInterval", () => {
  it("spreads the interval by ±20% by default", () => {
    expect(jitteredInterval(10_000, 0.2, () => 0)).toBe(8_000);
    expect(jitteredInterval(10_000, 0.2, () => 1)).toBe(12_000);
    expect(jitteredInterval(10_000, 0.2, () => 0.5)).toBe(10_000);
  });

  it("spreads a fleet: different random draws give different intervals", () => {
    const draws = new Set(Array.from({ length: 50 }, () => jitteredInterval(30_000)));
    expect(draws.size).toBeGreaterThan(10);
    for (const d of draws) expect(d >= 24_000 && d <= 36_000).toBe(true);
  });
});

describe("nextCheckDelay", () => {
  const calm = { readFailures: 0, staleReads: 0, waitingForAnnounced: false, pollIntervalMs: 30_000 };

  it("polls at the jittered interval when all is well", () => {
    expect(nextCheckDelay(calm, () => 0)).toBe(24_000);
  });

  it("retries soon after failures, backing off, never slower than the poll interval", () => {
    expect(nextCheckDelay({ ...calm, readFailures: 1 }, () => 1)).toBe(500);
    expect(nextCheckDelay({ ...calm, readFailures: 4 }, () => 1)).toBe(4_000);
    expect(nextCheckDelay({ ...calm, readFailures: 40, pollIntervalMs: 5_000 }, () => 1)).toBe(5_000);
    expect(nextCheckDelay({ ...calm, readFailures: 3, pollIntervalMs: 200 }, () => 1)).toBe(200);
  });

  it("looks again within milliseconds while a read lags an announcement", () => {
    expect(nextCheckDelay({ ...calm, waitingForAnnounced: true, staleReads: 1 }, () => 1)).toBe(50);
    expect(nextCheckDelay({ ...calm, waitingForAnnounced: true, staleReads: 20 }, () => 1)).toBe(2_000);
  });
});
