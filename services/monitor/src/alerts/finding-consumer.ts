import { DRIFT_DETECTED, DRIFT_RESOLVED, POLICY_VIOLATED } from "@nexus/contracts";
import type { Bus, Consumption, Pool } from "@nexus/kit";
import type { FindingStore } from "./alert-store.js";

export const FINDINGS_DURABLE = "monitor-findings";

/** Open drift findings as the detector announces them (the `drift_finding_open` rule's input). */
export function consumeFindings(deps: {
  bus: Bus;
  pool: Pool;
  findings: FindingStore;
}): Promise<Consumption> {
  return deps.bus.consume(
    [DRIFT_DETECTED, POLICY_VIOLATED, DRIFT_RESOLVED],
    // One at a time per durable. A server without multi-filter consumers (2.9) has a durable per
    // subject, so detected and resolved may still cross: closed_findings makes the order moot.
    { durable: FINDINGS_DURABLE, concurrency: 1 },
    async (event) => {
      const f = event.data;
      if (event.type === DRIFT_RESOLVED) return deps.findings.closed(deps.pool, f.findingId);
      await deps.findings.opened(deps.pool, {
        findingId: f.findingId,
        kind: f.kind,
        namespace: f.namespace,
        environment: f.environment,
        severity: f.severity,
        summary: f.summary,
        openedAt: new Date(f.firstSeenAt),
      });
    },
  );
}
