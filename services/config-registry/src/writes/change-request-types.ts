import { ChangeRequestBody, PendingChangeBody } from "@nexus/contracts";
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

/** The shapes the HTTP API shows live once, in the contracts (the CLI reads them from there). */
export const ChangeRequestDto = ChangeRequestBody;
export type ChangeRequestDto = ChangeRequestBody;

/** What a gated write answers (202) instead of a revision. */
export const PendingChangeDto = PendingChangeBody;
