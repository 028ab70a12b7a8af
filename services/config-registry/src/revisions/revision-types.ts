import { RevisionSummaryDto } from "@nexus/contracts";
import { z } from "zod";

export interface Revision {
  namespace: string;
  revision: number;
  layer: string;
  content: Record<string, unknown>;
  hash: string;
  diff: unknown[];
  author: string;
  message: string;
  source: string;
  createdAt: string;
}

export type RevisionSummary = Omit<Revision, "content" | "diff">;

export const RevisionDto = RevisionSummaryDto.extend({
  content: z.record(z.string(), z.unknown()),
  secretPaths: z
    .array(z.string())
    .describe(
      'JSON pointers where this revision stores a secret (`"***"` in `content` unless the caller reads secrets)',
    ),
  diff: z.array(z.unknown()).describe("RFC 6902 operations from the layer's previous revision"),
});

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
