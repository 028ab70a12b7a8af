import { z } from "zod";
import { InstanceId, ServiceName } from "../events/config-applied.js";
import { EnvironmentName, NamespaceName } from "../identifiers.js";

/**
 * Fire-and-forget command on core NATS (not stored, no reply): instances of a (namespace,
 * environment) re-fetch their resolved configuration and re-apply it, then report with
 * `config.applied` (trigger `resync`, echoing `requestId`). Sent by the drift-detector to
 * remediate, or by people. Narrow it to one service or one instance; absent means all.
 */
export const INSTANCE_RESYNC_COMMAND = "nexus.instance.resync" as const;

export const InstanceResyncCommand = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  environment: EnvironmentName,
  service: ServiceName.optional(),
  instanceId: InstanceId.optional(),
  requestId: z.string().min(1).max(200).optional().describe("Echoed in the resulting config.applied"),
  reason: z.string().max(1000).optional(),
  requestedBy: z.string().min(1).max(200),
});
export type InstanceResyncCommand = z.infer<typeof InstanceResyncCommand>;

export const instanceResyncSubject = (d: Pick<InstanceResyncCommand, "environment" | "namespace">) =>
  `${INSTANCE_RESYNC_COMMAND}.${d.environment}.${d.namespace}`;
