import { z } from "zod";
import { EnvironmentName, NamespaceName } from "../identifiers.js";
import { InstanceId, ResolvedRevision, ServiceName } from "./config-applied.js";
import { DriftKind } from "./drift-finding.js";

export const DRIFT_REMEDIATION_REQUESTED = "nexus.drift.remediation-requested" as const;

/**
 * The detector (in `remediate` mode) sent a resync command to one instance to repair a finding.
 * `requestId` is echoed by the instance's next `config.applied`.
 */
export const DriftRemediationRequested = z.object({
  schemaVersion: z.literal(1),
  remediationId: z.uuid(),
  findingId: z.uuid(),
  kind: DriftKind,
  namespace: NamespaceName,
  environment: EnvironmentName,
  service: ServiceName,
  instanceId: InstanceId,
  action: z.literal("resync"),
  targetRevision: ResolvedRevision.describe("The published revision the instance is asked to run"),
  attempt: z.number().int().min(1),
  requestId: z.string().min(1).max(200),
  requestedAt: z.iso.datetime({ offset: true }),
});
export type DriftRemediationRequested = z.infer<typeof DriftRemediationRequested>;

export const driftRemediationRequestedSubject = (
  d: Pick<DriftRemediationRequested, "environment" | "namespace">,
) => `${DRIFT_REMEDIATION_REQUESTED}.${d.environment}.${d.namespace}`;
