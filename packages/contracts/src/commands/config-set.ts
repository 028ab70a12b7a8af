import { z } from "zod";
import { NamespaceName, ResourceName, RevisionNumber } from "../identifiers.js";

/**
 * Request/reply command: write one layer of a namespace, with the same rules as the REST PUT.
 * Sent to `nexus.config.cmd.set.<layer>.<namespace>` (see `configSetSubject`): the target is in
 * the subject so NATS permissions can limit a writer to its namespaces (and layers), and the
 * registry refuses a body naming another target than its subject.
 */
export const CONFIG_SET_COMMAND = "nexus.config.cmd.set" as const;

export const ConfigSetCommand = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  /** A subject token, so named like environments are. */
  layer: ResourceName.describe("`base` or an environment name"),
  content: z.record(z.string(), z.unknown()),
  /** Optimistic concurrency, like `If-Match`: the revision the writer last saw. */
  expectedRevision: z.number().int().min(0).optional(),
  message: z.string().max(1000).optional(),
  author: z.string().min(1).max(200),
});
export type ConfigSetCommand = z.infer<typeof ConfigSetCommand>;

export const configSetSubject = (d: Pick<ConfigSetCommand, "layer" | "namespace">) =>
  `${CONFIG_SET_COMMAND}.${d.layer}.${d.namespace}`;

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
