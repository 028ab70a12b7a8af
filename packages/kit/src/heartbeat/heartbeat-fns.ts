import type { HeartbeatHttpTraffic, ServiceHeartbeat } from "@nexus/contracts";

export type HeartbeatGauges = ServiceHeartbeat["gauges"];

export { instanceIdOf } from "../instance-id.js";

interface ConsumerState {
  num_pending: number;
  num_ack_pending: number;
  num_redelivered: number;
}

/** The consumer gauges of a service: the sums over its durables. */
export function sumGauges(
  consumers: readonly ConsumerState[],
): Pick<HeartbeatGauges, "consumerPending" | "consumerAckPending" | "consumerRedelivered"> {
  let consumerPending = 0;
  let consumerAckPending = 0;
  let consumerRedelivered = 0;
  for (const c of consumers) {
    consumerPending += c.num_pending;
    consumerAckPending += c.num_ack_pending;
    consumerRedelivered += c.num_redelivered;
  }
  return { consumerPending, consumerAckPending, consumerRedelivered };
}

/** Cumulative HTTP counts (see readProcessHttpTotals): buckets keyed by upper bound in seconds. */
export interface HttpCounts {
  requests: number;
  errors5xx: number;
  buckets: ReadonlyMap<number, number>;
}

/**
 * The traffic between two readings of the cumulative counts: requests, 5xx and the p99 as the
 * upper bound of the bucket holding it (beyond the largest finite bucket: that bucket's bound).
 * A reading lower than the previous one (an app restarted in-process) counts from zero.
 */
export function trafficBetween(prev: HttpCounts | null, next: HttpCounts): HeartbeatHttpTraffic {
  const reset = !prev || next.requests < prev.requests;
  const base = reset ? null : prev;
  const requests = next.requests - (base?.requests ?? 0);
  const errors5xx = Math.max(0, next.errors5xx - (base?.errors5xx ?? 0));
  if (requests <= 0) return { requests: 0, errors5xx: 0, p99Ms: null };
  const bounds = [...next.buckets.keys()].sort((a, b) => a - b);
  const largestFinite = bounds.filter(Number.isFinite).at(-1) ?? 0;
  const rank = Math.ceil(requests * 0.99);
  let p99 = largestFinite;
  for (const le of bounds) {
    const inWindow = (next.buckets.get(le) ?? 0) - (base?.buckets.get(le) ?? 0);
    if (inWindow >= rank) {
      p99 = Number.isFinite(le) ? le : largestFinite;
      break;
    }
  }
  return { requests, errors5xx, p99Ms: Math.round(p99 * 1_000 * 1_000) / 1_000 };
}
