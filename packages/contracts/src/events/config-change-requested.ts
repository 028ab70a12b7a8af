import { z } from "zod";
import { NamespaceName } from "../identifiers.js";

export const CONFIG_CHANGE_REQUESTED = "nexus.config.change-requested" as const;

/**
 * A write to a protected environment (or to the base layer of a namespace that has one) by
 * someone who may not apply it directly: it waits for an approver other than its author.
 * Carries who, where and why, never the proposed values.
 */
export const ConfigChangeRequested = z.object({
  schemaVersion: z.literal(1),
  changeRequestId: z.uuid(),
  namespace: NamespaceName,
  layer: z.string().min(1).describe("`base` or an environment name"),
  environments: z.array(z.string()).describe("The protected environments the change would reach"),
  baseRevision: z.number().int().min(0).describe("The layer revision the change was written against"),
  author: z.string().min(1),
  message: z.string(),
});
export type ConfigChangeRequested = z.infer<typeof ConfigChangeRequested>;

export const configChangeRequestedSubject = (d: Pick<ConfigChangeRequested, "layer" | "namespace">) =>
  `${CONFIG_CHANGE_REQUESTED}.${d.layer}.${d.namespace}`;
