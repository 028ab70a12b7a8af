import type { DriftKind, DriftSeverity, PolicyViolation } from "@nexus/contracts";

/*
 * A finding's HTTP shapes (`FindingDto`, `FindingListDto`, `FindingQuery`) live in
 * @nexus/contracts (http/drift-findings.ts), which the CLI reads too.
 */

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

/** What a source finding keeps about its Git side (finding details). */
export interface SourceFindingGit {
  cause: "override" | "import-failed";
  /** The Git source's name and branch; null when the detector never saw the layer imported. */
  source: string | null;
  branch: string | null;
  overriddenBy?: string;
  commit?: string;
}
