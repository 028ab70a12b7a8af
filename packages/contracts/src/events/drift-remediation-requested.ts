import { z } from "zod";
import { EnvironmentName, NamespaceName } from "../identifiers.js";
import { InstanceId, ResolvedRevision, ServiceName } from "./config-applied.js";
import { DriftKind } from "./drift-finding.js";

export const DRIFT_REMEDIATION_REQUESTED = "nexus.drift.remediation-requested" as const;

/**
 * The detector (in `remediate` mode) acted to repair a finding: `resync` sent a resync command to
 * one instance (`requestId` is echoed by the instance's next `config.applied`); `reimport` asked
 * the registry to re-import a Git source's branch head (kind `source`; no service or instance).
 */
export const DriftRemediationRequested = z.object({
  schemaVersion: z.literal(1),
  remediationId: z.uuid(),
  findingId: z.uuid(),
  kind: DriftKind,
  namespace: NamespaceName,
  environment: EnvironmentName,
  service: ServiceName.nullable().describe("Null for `reimport`"),
  instanceId: InstanceId.nullable().describe("Null for `reimport`"),
  action: z.enum(["resync", "reimport"]),
  targetRevision: ResolvedRevision.nullable().describe(
    "The published revision the instance is asked to run; null for `reimport` (the Git head is the target)",
  ),
  gitSource: z.string().optional().describe("`reimport`: the Git source re-imported"),
  branch: z.string().optional().describe("`reimport`: the branch re-imported"),
  attempt: z.number().int().min(1),
  requestId: z.string().min(1).max(200),
  requestedAt: z.iso.datetime({ offset: true }),
});
export type DriftRemediationRequested = z.infer<typeof DriftRemediationRequested>;

export const driftRemediationRequestedSubject = (
  d: Pick<DriftRemediationRequested, "environment" | "namespace">,
) => `${DRIFT_REMEDIATION_REQUESTED}.${d.environment}.${d.namespace}`;
