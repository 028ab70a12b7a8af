import { z } from "zod";

/**
 * A namespace's layers (`base` and one overlay per environment) as the config-registry's
 * `/v1/namespaces/{ns}/layers/{layer}` shows them, and what writing one answers. A gated write
 * answers `PendingChangeBody` (change-request.ts) instead.
 */

/** `GET …/layers/{layer}`: the layer as written (ETag: its revision). */
export const LayerDto = z.object({
  namespace: z.string(),
  layer: z.string(),
  revision: z.number().int(),
  hash: z.string(),
  content: z.record(z.string(), z.unknown()),
  /** Null for a layer never written (revision 0). */
  updatedAt: z.string().nullable(),
  secretPaths: z
    .array(z.string())
    .describe(
      'JSON pointers where this layer itself stores a secret (`"***"` in `content` unless the caller reads secrets): what a layer write cannot carry as a secret',
    ),
});
export type LayerDto = z.infer<typeof LayerDto>;

/** `PUT` / `PATCH …/layers/{layer}` and `POST …/rollback` (200): the revision written. */
export const WriteResultDto = z.object({
  namespace: z.string(),
  layer: z.string(),
  revision: z.number().int(),
  previousRevision: z.number().int(),
  hash: z.string(),
  /** False when the content equalled the head: no revision, no event. */
  changed: z.boolean(),
  /** Environments whose resolved configuration changed (events were published for these). */
  changedEnvironments: z.array(z.string()),
});
export type WriteResultDto = z.infer<typeof WriteResultDto>;
