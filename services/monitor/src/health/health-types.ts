import type { ServiceHeartbeat } from "@nexus/contracts";

/** The last heartbeat of one instance and when it arrived (monitor clock, ms). */
export interface InstanceRecord {
  service: string;
  instanceId: string;
  lastSeenAt: number;
  heartbeat: ServiceHeartbeat;
}

/**
 * `up`: ready; `degraded`: a non-critical dependency is down; `not_ready`: a critical one is;
 * `missing`: no heartbeat for MISSED_HEARTBEATS intervals; `stopped`: said goodbye on shutdown;
 * `replaced`: missing, but a live instance of the same service started after its last heartbeat
 * (a crashed process that its supervisor restarted): shown, not counted against the service.
 */
export type InstanceHealth = "up" | "degraded" | "not_ready" | "missing" | "stopped" | "replaced";

/** `unknown`: expected, not heard from yet, and the monitor has not been up long enough to say. */
export type ServiceHealth = "up" | "degraded" | "down" | "unknown";

export type OverallHealth = "healthy" | "degraded" | "unhealthy";

export interface InstanceView {
  service: string;
  instanceId: string;
  health: InstanceHealth;
  version: string;
  uptimeSeconds: number;
  lastSeenAt: string;
  intervalSeconds: number;
  dependencies: ServiceHeartbeat["dependencies"];
  gauges: ServiceHeartbeat["gauges"];
}

export interface ServiceView {
  service: string;
  health: ServiceHealth;
  /** Why, in words: "2 of 3 instances up", "no heartbeat since …". */
  reason: string;
  instances: InstanceView[];
}

export interface HealthSummary {
  status: OverallHealth;
  checkedAt: string;
  services: ServiceView[];
}
