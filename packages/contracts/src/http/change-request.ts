import { z } from "zod";

/**
 * A change request as the registry's HTTP API shows it: a write to a protected environment by
 * someone who may not write there alone, waiting for an approver. The registry answers a gated
 * `PUT` / `PATCH` of a layer and a rollback with `202` and a `PendingChangeBody`.
 */
export const ChangeRequestBody = z.object({
  id: z.string(),
  namespace: z.string(),
  layer: z.string(),
  kind: z.enum(["replace", "patch", "rollback"]),
  content: z
    .record(z.string(), z.unknown())
    .describe("The proposed layer; secrets `***` unless you may read them"),
  baseRevision: z.number().int(),
  message: z.string(),
  author: z.string(),
  status: z.enum(["pending", "approved", "rejected"]),
  createdAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  comment: z.string(),
  revision: z.number().int().nullable().describe("The revision an approval wrote"),
});
export type ChangeRequestBody = z.infer<typeof ChangeRequestBody>;

/** What a gated write answers (202) instead of a revision. */
export const PendingChangeBody = z.object({
  changeRequest: ChangeRequestBody,
  message: z.string(),
});
export type PendingChangeBody = z.infer<typeof PendingChangeBody>;
