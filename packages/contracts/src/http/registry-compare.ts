import { z } from "zod";

/**
 * The config-registry's `GET /v1/namespaces/{ns}/compare?from&to`: two environments' resolved
 * configurations side by side (`nexus compare`, what a promotion would change).
 */

/** Where a value comes from: the layer and its revision (null: a layer never written). */
const ValueSource = z.object({ layer: z.string(), revision: z.number().int().nullable() });

export const ComparedChangeDto = z.object({
  op: z.enum(["add", "remove", "replace"]),
  path: z.string().describe("JSON pointer"),
  /** The value on the `from` side (absent for `add`). */
  from: z.unknown().optional(),
  /** The value on the `to` side (absent for `remove`). */
  to: z.unknown().optional(),
  /** Where each side's value comes from (a leaf's, or its nearest parent's). */
  fromSource: ValueSource.optional(),
  toSource: ValueSource.optional(),
});
export type ComparedChangeDto = z.infer<typeof ComparedChangeDto>;

export const ComparisonDto = z.object({
  namespace: z.string(),
  from: z.object({ environment: z.string(), revision: z.number().int(), hash: z.string() }),
  to: z.object({ environment: z.string(), revision: z.number().int(), hash: z.string() }),
  changes: z
    .array(ComparedChangeDto)
    .describe(
      "RFC 6902 operations from `from` to `to`, each with both values and where they come from; secrets `***`",
    ),
});
export type ComparisonDto = z.infer<typeof ComparisonDto>;
