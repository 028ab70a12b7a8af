import type { ServiceHeartbeat } from "@nexus/contracts";

export const NOW = Date.parse("2026-12-06T12:00:00Z");

/** A ready notifier instance's heartbeat sent at NOW. */
export function heartbeat(over: Partial<ServiceHeartbeat> = {}): ServiceHeartbeat {
  return {
    schemaVersion: 1,
    service: "notifier",
    instanceId: "a-1",
    version: "0.1.0",
    startedAt: new Date(NOW - 60_000).toISOString(),
    sentAt: new Date(NOW).toISOString(),
    uptimeSeconds: 60,
    status: "ready",
    dependencies: [{ name: "postgres", critical: true, status: "up", latencyMs: 1 }],
    gauges: {
      outboxBacklog: 0,
      consumerPending: 0,
      consumerAckPending: 0,
      consumerRedelivered: 0,
      deadLetters: 0,
    },
    intervalSeconds: 5,
    ...over,
  };
}
