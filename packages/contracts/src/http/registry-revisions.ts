import { z } from "zod";
import { RevisionSummaryDto } from "./revision-timeline.js";

/**
 * A layer's revisions as the config-registry's `/v1/namespaces/{ns}/layers/{layer}/revisions…`
 * and `…/diff` show them. Diffs are RFC 6902 operations, documented as such but not described
 * item by item: the registry answers them as its revisions stored them.
 */

/** `GET …/revisions`: newest first. */
export const RevisionHistoryDto = z.object({ items: z.array(RevisionSummaryDto) });
export type RevisionHistoryDto = z.infer<typeof RevisionHistoryDto>;

/** `GET …/revisions/{n}`: one revision with its content and its diff to the previous one. */
export const RevisionDto = RevisionSummaryDto.extend({
  content: z.record(z.string(), z.unknown()),
  secretPaths: z
    .array(z.string())
    .describe(
      'JSON pointers where this revision stores a secret (`"***"` in `content` unless the caller reads secrets)',
    ),
  diff: z.array(z.unknown()).describe("RFC 6902 operations from the layer's previous revision"),
});
export type RevisionDto = z.infer<typeof RevisionDto>;

/** `GET …/diff?from&to`: RFC 6902 operations turning revision `from` into `to` (0 = empty). */
export const LayerDiffDto = z.object({
  namespace: z.string(),
  layer: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  operations: z.array(z.unknown()),
});
export type LayerDiffDto = z.infer<typeof LayerDiffDto>;
