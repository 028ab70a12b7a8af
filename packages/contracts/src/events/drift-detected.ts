import type { z } from "zod";
import { DriftFinding } from "./drift-finding.js";

export const DRIFT_DETECTED = "nexus.drift.detected" as const;

/**
 * A finding of kind stale, rejected, divergent or source opened. Published once per finding:
 * updates while it stays open, and re-opening within the dedup window, publish nothing.
 * Policy findings are announced by `policy.violated` instead (with the broken rules).
 */
export const DriftDetected = DriftFinding;
export type DriftDetected = z.infer<typeof DriftDetected>;

export const driftDetectedSubject = (d: Pick<DriftDetected, "environment" | "namespace">) =>
  `${DRIFT_DETECTED}.${d.environment}.${d.namespace}`;
