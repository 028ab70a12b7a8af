import { z } from "zod";
import { DriftKind, DriftSeverity } from "../events/drift-finding.js";
import { PolicyViolation } from "../events/policy-violated.js";

/**
 * The drift-detector's `GET /v1/findings`: drift findings, newest first, filtered to what the
 * caller may view (`nexus drift`). The CLI reads it type-only: it checks answers structurally,
 * without zod.
 */

export const FindingStatus = z.enum(["open", "resolving", "resolved"]);
export type FindingStatus = z.infer<typeof FindingStatus>;

/** The filters; `active` is open and resolving. */
export const FindingQuery = z.object({
  namespace: z.string().max(63).optional(),
  environment: z.string().max(63).optional(),
  kind: DriftKind.optional(),
  status: z.enum(["active", "open", "resolving", "resolved", "all"]).default("active"),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type FindingQuery = z.infer<typeof FindingQuery>;

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

export const FindingListDto = z.object({ items: z.array(FindingDto) });
export type FindingListDto = z.infer<typeof FindingListDto>;
