import { z } from "zod";

export type ChangeKind = "replace" | "patch" | "rollback";
export type ChangeStatus = "pending" | "approved" | "rejected";

export interface ChangeRequest {
  id: string;
  namespace: string;
  layer: string;
  kind: ChangeKind;
  /** The proposed layer document, stored sealed (secrets encrypted). */
  content: Record<string, unknown>;
  baseRevision: number;
  message: string;
  author: string;
  authorSubject: string;
  status: ChangeStatus;
  createdAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  comment: string;
  revision: number | null;
}

export const ChangeRequestParams = z.object({ id: z.uuid() });

export const ChangeRequestQuery = z.object({
  namespace: z.string().max(63).optional(),
  status: z.enum(["pending", "approved", "rejected"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const DecisionBody = z.object({
  comment: z.string().max(2000).default(""),
});

export const ChangeRequestDto = z.object({
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
export type ChangeRequestDto = z.infer<typeof ChangeRequestDto>;

/** What a gated write answers (202) instead of a revision. */
export const PendingChangeDto = z.object({
  changeRequest: ChangeRequestDto,
  message: z.string(),
});
