import type { ServiceHeartbeat } from "@nexus/contracts";

export type HeartbeatGauges = ServiceHeartbeat["gauges"];

/** `<hostname>-<pid>` as a subject token: lowercase, anything else becomes `-`. */
export function instanceIdOf(host: string, pid: number): string {
  const cleaned = host
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 80);
  return `${cleaned || "host"}-${pid}`;
}

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
