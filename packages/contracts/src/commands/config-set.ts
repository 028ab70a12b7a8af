import { z } from "zod";
import { NamespaceName, RevisionNumber } from "../identifiers.js";

/** Request/reply command: write one layer of a namespace, with the same rules as the REST PUT. */
export const CONFIG_SET_COMMAND = "nexus.config.cmd.set" as const;

export const ConfigSetCommand = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  layer: z.string().min(1).max(63),
  content: z.record(z.string(), z.unknown()),
  /** Optimistic concurrency, like `If-Match`: the revision the writer last saw. */
  expectedRevision: z.number().int().min(0).optional(),
  message: z.string().max(1000).optional(),
  author: z.string().min(1).max(200),
});
export type ConfigSetCommand = z.infer<typeof ConfigSetCommand>;

export const ConfigSetReply = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    namespace: NamespaceName,
    layer: z.string(),
    revision: RevisionNumber,
    hash: z.string(),
  }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      statusCode: z.number().int(),
      code: z.string(),
      message: z.string(),
      field: z.string().optional(),
      details: z.unknown().optional(),
    }),
  }),
]);
export type ConfigSetReply = z.infer<typeof ConfigSetReply>;
