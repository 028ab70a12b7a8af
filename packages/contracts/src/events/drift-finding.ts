import { z } from "zod";
import { ContentHash, EnvironmentName, NamespaceName } from "../identifiers.js";
import { InstanceId, ResolvedRevision, ServiceName } from "./config-applied.js";

/**
 * What the drift-detector found, shared by `drift.detected`, `drift.resolved`, `drift.escalated`
 * and `policy.violated`:
 * - `stale`: an instance still runs an older revision after the environment's grace period;
 * - `rejected`: an instance refused a revision (its reason is in `reason`);
 * - `divergent`: an instance's hash is not the hash of the revision it claims to run;
 * - `source`: a Git-bound layer differs from its Git source at the branch head (an API override,
 *   or a failed import); `environment` is the layer (`base` or an environment name);
 * - `policy`: a resolved document breaks a compliance policy.
 */
export const DriftKind = z.enum(["stale", "rejected", "divergent", "source", "policy"]);
export type DriftKind = z.infer<typeof DriftKind>;

export const DriftSeverity = z.enum(["info", "warning", "critical"]);
export type DriftSeverity = z.infer<typeof DriftSeverity>;

/** A revision and its content hash; either may be unknown (null). */
export const RevisionRef = z.object({
  revision: ResolvedRevision.nullable(),
  hash: ContentHash.nullable(),
});
export type RevisionRef = z.infer<typeof RevisionRef>;

/**
 * One finding. `findingId` is stable for the life of the finding: a finding that re-opens within
 * the detector's dedup window keeps its id and is updated, not announced again.
 */
export const DriftFinding = z.object({
  schemaVersion: z.literal(1),
  findingId: z.uuid(),
  kind: DriftKind,
  namespace: NamespaceName,
  environment: EnvironmentName,
  service: ServiceName.nullable().describe("The instances' service; null for findings about the document"),
  instanceIds: z
    .array(InstanceId)
    .describe("Instances concerned; empty for findings about the document itself (policy, source)"),
  expected: RevisionRef.describe("What should run: the environment's current revision and hash"),
  actual: RevisionRef.describe("What runs or was reported"),
  severity: DriftSeverity,
  firstSeenAt: z.iso.datetime({ offset: true }),
  lastSeenAt: z.iso.datetime({ offset: true }),
  summary: z.string().min(1).max(1000).describe("The finding in plain words, for people"),
  reason: z
    .string()
    .max(2000)
    .optional()
    .describe("An instance's rejection reason (kind `rejected`); why the layer left Git (kind `source`)"),
});
export type DriftFinding = z.infer<typeof DriftFinding>;

export const findingAbout = (d: Pick<DriftFinding, "namespace" | "environment" | "findingId">) =>
  `${d.namespace}/${d.environment}/${d.findingId}`;
