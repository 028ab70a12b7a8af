import type { ActiveFinding } from "../findings/finding-types.js";
import type { RemediationMode } from "./remediation-store.js";

export type RemediationStep =
  | { action: "resync"; finding: ActiveFinding; targetRevision: number; attempt: number }
  | { action: "reimport"; finding: ActiveFinding; source: string; branch: string | null; attempt: number }
  | { action: "escalate"; finding: ActiveFinding; attempts: number };

export interface RemediationPolicy {
  maxAttempts: number;
  retryMs: number;
  now: number;
}

/**
 * What to do for each open finding in `remediate` mode. Stale and divergent instances are
 * resynced, only towards the head revision the registry published (never anything else); a
 * source finding (its layer is the mode's environment, `base` for the base layer) has its Git
 * source re-imported at the branch head. Each at most `maxAttempts` times `retryMs` apart; a
 * finding still open after the last attempt escalates once instead of looping.
 */
export function planRemediation(
  findings: readonly ActiveFinding[],
  modeOf: (namespace: string, environment: string) => RemediationMode,
  headOf: (namespace: string, environment: string) => number | undefined,
  p: RemediationPolicy,
): RemediationStep[] {
  const steps: RemediationStep[] = [];
  for (const f of findings) {
    if (f.status !== "open" || f.escalatedAt) continue;
    if (modeOf(f.namespace, f.environment) !== "remediate") continue;
    let next: RemediationStep;
    const attempt = f.remediationAttempts + 1;
    if (f.kind === "source") {
      // Without its source (never seen imported) there is nothing to re-import.
      const git = f.details?.git;
      if (!git?.source) continue;
      next = { action: "reimport", finding: f, source: git.source, branch: git.branch, attempt };
    } else if (f.kind === "stale" || f.kind === "divergent") {
      if (!f.service || f.instanceIds.length !== 1) continue;
      const head = headOf(f.namespace, f.environment);
      if (head === undefined) continue;
      next = { action: "resync", finding: f, targetRevision: head, attempt };
    } else continue;
    const due = !f.lastRemediationAt || p.now - f.lastRemediationAt.getTime() >= p.retryMs;
    if (!due) continue;
    steps.push(
      f.remediationAttempts >= p.maxAttempts
        ? { action: "escalate", finding: f, attempts: f.remediationAttempts }
        : next,
    );
  }
  return steps;
}
