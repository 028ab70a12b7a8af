import { z } from "zod";

/**
 * The audit log as every service's `GET /v1/audit` and `/v1/audit/export` (the kit's
 * http/audit-router.ts) filter and show it; the CLI (`nexus audit`) reads the registry's
 * (type-only: it checks answers structurally, without zod).
 */

export const AuditOutcome = z.enum(["allowed", "denied", "failed"]);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/** The filters of both routes; `limit` is the page size of `/v1/audit` only. */
export const AuditQueryParams = z.object({
  actor: z.string().min(1).max(300).optional(),
  resource: z.string().min(1).max(1000).optional().describe("Prefix of the resource path"),
  outcome: AuditOutcome.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  after: z.coerce.number().int().min(0).optional().describe("Continue after this sequence number"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQueryParams = z.infer<typeof AuditQueryParams>;

/** One line of the log, as answered (and as each line of the export). */
export const AuditEntryDto = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  resource: z.string(),
  outcome: AuditOutcome,
  statusCode: z.number().optional(),
  requestId: z.string().optional(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditEntryDto = z.infer<typeof AuditEntryDto>;

/** `GET /v1/audit`: oldest first; `next` is the `after` of the next page, null on the last. */
export const AuditPageDto = z.object({ entries: z.array(AuditEntryDto), next: z.number().nullable() });
export type AuditPageDto = z.infer<typeof AuditPageDto>;
