import { z } from "zod";
import { ResourceName } from "../identifiers.js";

/**
 * Core NATS, not stored, no reply: a Nexus service instance says it is alive, how its
 * dependencies answer and how far behind its work is. Every `intervalSeconds`, and once more with
 * `status: "stopping"` on a clean shutdown. Not a catalog event: JetStream would keep a week of
 * samples nobody replays; the monitor keeps the history it needs (downsampled) in Postgres.
 */
export const SERVICE_HEARTBEAT = "nexus.service.heartbeat" as const;

/** Subject tokens: lowercase letters, digits, `-` and `_` (no `.`, `*`, `>`). */
export const ServiceInstanceId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, "must be lowercase letters, digits, '-' or '_'");

export const DependencyStatus = z.object({
  name: z.string().min(1).max(60).describe("e.g. `postgres`, `nats`, `redis`"),
  critical: z.boolean().describe("A critical dependency down makes the instance not ready"),
  status: z.enum(["up", "down"]),
  latencyMs: z.number().int().min(0),
  error: z.string().max(500).optional(),
});
export type DependencyStatus = z.infer<typeof DependencyStatus>;

/**
 * The instance's HTTP traffic since its previous heartbeat. Optional, so a schemaVersion 1 body
 * without it (an older kit, a service without an HTTP API) stays valid: no new version needed.
 */
export const HeartbeatHttpTraffic = z.object({
  requests: z.number().int().min(0).describe("Requests answered in the interval (/metrics excluded)"),
  errors5xx: z.number().int().min(0).describe("Of those, answered with a 5xx status"),
  p99Ms: z
    .number()
    .min(0)
    .nullable()
    .describe(
      "99th percentile latency: the upper bound of its histogram bucket (above the largest bucket, 2.5 s, reported as 2500); null: no requests",
    ),
});
export type HeartbeatHttpTraffic = z.infer<typeof HeartbeatHttpTraffic>;

export const ServiceHeartbeat = z.object({
  schemaVersion: z.literal(1),
  service: ResourceName.describe("Nexus service name, e.g. `config-registry`"),
  instanceId: ServiceInstanceId,
  version: z.string().min(1).max(50),
  startedAt: z.iso.datetime({ offset: true }),
  sentAt: z.iso.datetime({ offset: true }),
  uptimeSeconds: z.number().int().min(0),
  status: z
    .enum(["ready", "degraded", "not_ready", "stopping"])
    .describe("What /readyz would answer; `stopping`: last heartbeat before a clean shutdown"),
  dependencies: z.array(DependencyStatus).max(20),
  gauges: z.object({
    outboxBacklog: z.number().int().min(0).nullable().describe("Unpublished outbox rows; null: no outbox"),
    consumerPending: z
      .number()
      .int()
      .min(0)
      .describe("Messages not yet delivered to this service's durables"),
    consumerAckPending: z.number().int().min(0).describe("Delivered and not yet acknowledged"),
    consumerRedelivered: z
      .number()
      .int()
      .min(0)
      .describe("Delivered more than once and not yet acknowledged"),
    deadLetters: z.number().int().min(0).describe("Messages this service's durables gave up on (in the DLQ)"),
  }),
  intervalSeconds: z.number().min(0.05).max(3_600).describe("Seconds until the next heartbeat"),
  http: HeartbeatHttpTraffic.optional().describe(
    "HTTP traffic since the previous heartbeat; absent: not measured",
  ),
});
export type ServiceHeartbeat = z.infer<typeof ServiceHeartbeat>;

export const serviceHeartbeatSubject = (d: Pick<ServiceHeartbeat, "service" | "instanceId">) =>
  `${SERVICE_HEARTBEAT}.${d.service}.${d.instanceId}`;
