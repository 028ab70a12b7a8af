import { z } from "zod";
import { DriftFinding } from "./drift-finding.js";

export const DRIFT_ESCALATED = "nexus.drift.escalated" as const;

/**
 * Remediation of a finding failed repeatedly: the detector stops resyncing it and raises its
 * severity to `critical`. A person has to look. Published once per finding.
 */
export const DriftEscalated = DriftFinding.extend({
  attempts: z.number().int().min(1).describe("Remediation attempts that did not resolve the finding"),
  previousSeverity: DriftFinding.shape.severity,
});
export type DriftEscalated = z.infer<typeof DriftEscalated>;

export const driftEscalatedSubject = (d: Pick<DriftEscalated, "environment" | "namespace">) =>
  `${DRIFT_ESCALATED}.${d.environment}.${d.namespace}`;
