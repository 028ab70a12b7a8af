import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffMs, nextState } from "../../src/delivery/delivery-fns.js";
import { outcomeForStatus, parseRetryAfter, receiverNow } from "../../src/receivers/send-outcome-fns.js";

const now = new Date("2026-01-01T00:00:00Z");
const policy = { baseMs: 1000, maxMs: 60_000 };

describe("backoff", () => {
  it("stays within [base/2, min(max, base·2^(n-1))]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const d = backoffMs(attempt, policy, () => r);
          expect(d).toBeGreaterThanOrEqual(500);
          expect(d).toBeLessThanOrEqual(Math.min(60_000, 1000 * 2 ** (attempt - 1)));
        },
      ),
    );
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it("reads a date against the receiver's clock (its Date header), whatever this process's says", () => {
    // This process is 10 minutes ahead; the receiver says "in 5 s" as a date by its own clock.
    const local = Date.parse("Thu, 01 Jan 2026 00:10:00 GMT");
    const theirs = receiverNow("Thu, 01 Jan 2026 00:00:00 GMT", local);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", theirs)).toBe(5_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", new Date(local))).toBe(0);
    // No or an unreadable Date header: this process's clock.
    expect(receiverNow(undefined, local).getTime()).toBe(local);
    expect(receiverNow("yesterday-ish", local).getTime()).toBe(local);
  });
});

describe("outcomes", () => {
  it("retries 429/5xx/408, never other 4xx", () => {
    expect(outcomeForStatus(202, null, now, "")).toEqual({ kind: "delivered", statusCode: 202 });
    expect(outcomeForStatus(429, "2", now, "")).toMatchObject({ kind: "retry", afterMs: 2000 });
    expect(outcomeForStatus(503, null, now, "busy")).toMatchObject({
      kind: "retry",
      error: "HTTP 503: busy",
    });
    expect(outcomeForStatus(400, null, now, "bad")).toMatchObject({ kind: "fail", statusCode: 400 });
  });
  it("dead-letters after the last attempt with the reason, honours Retry-After before that", () => {
    const retry = { kind: "retry" as const, statusCode: 500, error: "HTTP 500" };
    expect(nextState(retry, 3, 3, policy)).toEqual({
      status: "dead",
      reason: "gave up after 3 attempts; last: HTTP 500",
    });
    expect(nextState({ ...retry, afterMs: 7000 }, 1, 3, policy)).toEqual({
      status: "pending",
      retryInMs: 7000,
    });
    expect(nextState({ kind: "fail", statusCode: 400, error: "HTTP 400" }, 1, 3, policy)).toEqual({
      status: "dead",
      reason: "not retried: HTTP 400",
    });
  });
});
