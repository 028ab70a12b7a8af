import { describe, expect, it } from "vitest";
import { instanceIdOf, sumGauges, trafficBetween } from "../../src/heartbeat/heartbeat-fns.js";

describe("heartbeat functions", () => {
  it("make a subject-safe instance id from any host name", () => {
    expect(instanceIdOf("Web-01.Example.COM", 42)).toBe("web-01-example-com-42");
    expect(instanceIdOf("...", 7)).toBe("host-7");
    expect(instanceIdOf("a*b>c", 1)).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
  });
  it("add up the durables' backlog", () => {
    expect(
      sumGauges([
        { num_pending: 2, num_ack_pending: 1, num_redelivered: 0 },
        { num_pending: 5, num_ack_pending: 0, num_redelivered: 3 },
      ]),
    ).toEqual({ consumerPending: 7, consumerAckPending: 1, consumerRedelivered: 3 });
  });
});

describe("trafficBetween", () => {
  const counts = (requests: number, errors5xx: number, buckets: [number, number][]) => ({
    requests,
    errors5xx,
    buckets: new Map(buckets),
  });

  it("reports the difference from the previous reading and the p99 bucket bound", () => {
    const prev = counts(100, 2, [
      [0.1, 100],
      [1, 100],
      [2.5, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    // 200 new requests: 197 fast, 3 between 1 s and 2.5 s → the 198th is in the 2.5 s bucket.
    const next = counts(300, 12, [
      [0.1, 297],
      [1, 297],
      [2.5, 300],
      [Number.POSITIVE_INFINITY, 300],
    ]);
    expect(trafficBetween(prev, next)).toEqual({ requests: 200, errors5xx: 10, p99Ms: 2500 });
  });

  it("counts from zero on the first reading or after a reset, and null p99 without requests", () => {
    const next = counts(10, 0, [
      [0.1, 10],
      [Number.POSITIVE_INFINITY, 10],
    ]);
    expect(trafficBetween(null, next)).toEqual({ requests: 10, errors5xx: 0, p99Ms: 100 });
    expect(trafficBetween(counts(50, 5, []), next).requests).toBe(10);
    expect(trafficBetween(next, next)).toEqual({ requests: 0, errors5xx: 0, p99Ms: null });
  });

  it("reports requests slower than every finite bucket as the largest bound", () => {
    const next = counts(1, 0, [
      [2.5, 0],
      [Number.POSITIVE_INFINITY, 1],
    ]);
    expect(trafficBetween(null, next).p99Ms).toBe(2500);
  });
});
