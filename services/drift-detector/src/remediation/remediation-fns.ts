import type { ActiveFinding } from "../findings/finding-types.js";
import type { RemediationMode } from "./remediation-store.js";

export type RemediationStep =
  | { action: "resync"; finding: ActiveFinding; targetRevision: number; attempt: number }
  | { action: "escalate"; finding: ActiveFinding; attempts: number };

export interface RemediationPolicy {
  maxAttempts: number;
  retryMs: number;
  now: number;
}

/**
 * What to do for each open finding in `remediate` mode. Only stale and divergent instances are
 * resynced, only towards the head revision the registry published (never anything else), at most
 * `maxAttempts` times `retryMs` apart; a finding still open after the last attempt escalates once
 * instead of looping.
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
    if (f.kind !== "stale" && f.kind !== "divergent") continue;
    if (!f.service || f.instanceIds.length !== 1) continue;
    if (modeOf(f.namespace, f.environment) !== "remediate") continue;
    const head = headOf(f.namespace, f.environment);
    if (head === undefined) continue;
    const due = !f.lastRemediationAt || p.now - f.lastRemediationAt.getTime() >= p.retryMs;
    if (!due) continue;
    if (f.remediationAttempts >= p.maxAttempts) {
      steps.push({ action: "escalate", finding: f, attempts: f.remediationAttempts });
    } else {
      steps.push({ action: "resync", finding: f, targetRevision: head, attempt: f.remediationAttempts + 1 });
    }
  }
  return steps;
}
