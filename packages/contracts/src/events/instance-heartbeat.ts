import { z } from "zod";
import { ContentHash, EnvironmentName, NamespaceName } from "../identifiers.js";
import { InstanceId, ResolvedRevision, ServiceName } from "./config-applied.js";

export const INSTANCE_HEARTBEAT = "nexus.instance.heartbeat" as const;

/**
 * A consuming instance is alive and runs this revision and hash. Sent every `intervalSeconds`, so
 * a detector knows it is overdue after a few missed intervals, and once more with
 * `status: "stopping"` on a clean shutdown so it can forget the instance at once.
 */
export const InstanceHeartbeat = z.object({
  schemaVersion: z.literal(1),
  service: ServiceName,
  instanceId: InstanceId,
  namespace: NamespaceName,
  environment: EnvironmentName,
  revision: ResolvedRevision.describe("The resolved revision in use"),
  hash: ContentHash.describe("The content hash in use"),
  status: z
    .enum(["live", "cache", "stopping"])
    .describe(
      "`live`: runs config fetched from Nexus; `cache`: runs the last-known-good copy from disk because Nexus was unreachable; `stopping`: last heartbeat before a clean shutdown",
    ),
  lastRejected: z
    .object({ revision: ResolvedRevision, hash: ContentHash, reason: z.string().max(2000) })
    .optional()
    .describe("The newest revision this instance refused, when it is newer than the one in use"),
  startedAt: z.iso.datetime({ offset: true }),
  sdkVersion: z.string().min(1).max(50),
  intervalSeconds: z.number().int().min(1).describe("Seconds until the next heartbeat"),
});
export type InstanceHeartbeat = z.infer<typeof InstanceHeartbeat>;

export const instanceHeartbeatSubject = (d: Pick<InstanceHeartbeat, "environment" | "namespace">) =>
  `${INSTANCE_HEARTBEAT}.${d.environment}.${d.namespace}`;
