import { z } from "zod";
import { DriftFinding } from "./drift-finding.js";

export const DRIFT_RESOLVED = "nexus.drift.resolved" as const;

/**
 * A finding of any kind (policy included) resolved by itself: the instance caught up, applied,
 * was fixed, went away, or the document now passes. `resolution` says which in words.
 */
export const DriftResolved = DriftFinding.extend({
  resolvedAt: z.iso.datetime({ offset: true }),
  resolution: z.string().min(1).max(500).describe("Why it resolved, in plain words"),
});
export type DriftResolved = z.infer<typeof DriftResolved>;

export const driftResolvedSubject = (d: Pick<DriftResolved, "environment" | "namespace">) =>
  `${DRIFT_RESOLVED}.${d.environment}.${d.namespace}`;
