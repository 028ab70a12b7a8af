import type { DriftDetected, DriftEscalated, DriftResolved, PolicyViolated } from "@nexus/contracts";
import type { ActiveFinding } from "./finding-types.js";

/** The contract's finding fields from a stored finding. */
export function findingPayload(f: ActiveFinding): DriftDetected {
  const payload: DriftDetected = {
    schemaVersion: 1,
    findingId: f.id,
    kind: f.kind,
    namespace: f.namespace,
    environment: f.environment,
    service: f.service,
    instanceIds: f.instanceIds,
    expected: f.expected,
    actual: f.actual,
    severity: f.severity,
    firstSeenAt: f.firstSeenAt.toISOString(),
    lastSeenAt: f.lastSeenAt.toISOString(),
    summary: f.summary.slice(0, 1000),
  };
  if (f.reason) payload.reason = f.reason.slice(0, 2000);
  return payload;
}

export function policyViolatedPayload(f: ActiveFinding): PolicyViolated {
  return { ...findingPayload(f), kind: "policy", violations: f.details?.violations ?? [] };
}

export function resolvedPayload(f: ActiveFinding, resolution: string, at: Date): DriftResolved {
  return { ...findingPayload(f), resolvedAt: at.toISOString(), resolution: resolution.slice(0, 500) };
}

export function escalatedPayload(f: ActiveFinding, attempts: number): DriftEscalated {
  return { ...findingPayload(f), severity: "critical", attempts, previousSeverity: f.severity };
}
