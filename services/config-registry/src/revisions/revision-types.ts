import type { RevisionDto, RevisionSummaryDto } from "@nexus/contracts";
import { z } from "zod";

/** A revision as stored; the API adds where it holds secrets (`RevisionDto`, in @nexus/contracts). */
export type Revision = Omit<RevisionDto, "secretPaths">;

export type RevisionSummary = RevisionSummaryDto;

const RevisionParam = z.coerce.number().int().min(1).max(2_147_483_647);

export const RevisionParams = z.object({ n: RevisionParam });

export const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: RevisionParam.optional().describe("Only revisions older than this one (paging)"),
});

export const DiffQuery = z.object({
  from: z.coerce.number().int().min(0).max(2_147_483_647).describe("0 means the empty document"),
  to: z.coerce.number().int().min(0).max(2_147_483_647),
});
