import { DriftKind, DriftSeverity, PolicyViolation } from "@nexus/contracts";
import { z } from "zod";

/** A finding as it should be now, computed from the inventory or a policy evaluation. */
export interface DesiredFinding {
  key: string;
  kind: DriftKind;
  namespace: string;
  environment: string;
  service: string | null;
  instanceIds: string[];
  expected: { revision: number | null; hash: string | null };
  actual: { revision: number | null; hash: string | null };
  severity: DriftSeverity;
  summary: string;
  reason?: string | undefined;
  /** Kind-specific: policy violations; the Git side of a source finding. */
  details?: { violations?: PolicyViolation[]; git?: SourceFindingGit };
}

/** A finding row that is open or resolving. */
export interface ActiveFinding extends DesiredFinding {
  id: string;
  status: "open" | "resolving";
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvingSince: Date | null;
  resolution: string | null;
  remediationAttempts: number;
  lastRemediationAt: Date | null;
  escalatedAt: Date | null;
}

export const FindingStatus = z.enum(["open", "resolving", "resolved"]);

export const FindingDto = z.object({
  id: z.string(),
  kind: DriftKind,
  namespace: z.string(),
  environment: z.string(),
  service: z.string().nullable(),
  instanceIds: z.array(z.string()),
  expected: z.object({ revision: z.number().nullable(), hash: z.string().nullable() }),
  actual: z.object({ revision: z.number().nullable(), hash: z.string().nullable() }),
  severity: DriftSeverity,
  status: FindingStatus,
  summary: z.string(),
  reason: z.string().nullable(),
  violations: z.array(PolicyViolation).nullable(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  resolvedAt: z.string().nullable(),
  resolution: z.string().nullable(),
  reopenCount: z.number(),
  remediationAttempts: z.number(),
  escalatedAt: z.string().nullable(),
});
export type FindingDto = z.infer<typeof FindingDto>;

export const FindingQuery = z.object({
  namespace: z.string().max(63).optional(),
  environment: z.string().max(63).optional(),
  kind: DriftKind.optional(),
  status: z.enum(["active", "open", "resolving", "resolved", "all"]).default("active"),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type FindingQuery = z.infer<typeof FindingQuery>;

/** What a source finding keeps about its Git side (finding details). */
export interface SourceFindingGit {
  cause: "override" | "import-failed";
  /** The Git source's name and branch; null when the detector never saw the layer imported. */
  source: string | null;
  branch: string | null;
  overriddenBy?: string;
  commit?: string;
}
