import { z } from "zod";
import { NamespaceName } from "../identifiers.js";

export const CONFIG_CHANGE_APPROVED = "nexus.config.change-approved" as const;
export const CONFIG_CHANGE_REJECTED = "nexus.config.change-rejected" as const;

const Decision = z.object({
  schemaVersion: z.literal(1),
  changeRequestId: z.uuid(),
  namespace: NamespaceName,
  layer: z.string().min(1),
  author: z.string().min(1).describe("Who asked for the change"),
  decidedBy: z.string().min(1).describe("The approver (never the author)"),
  comment: z.string(),
});

/** An approver applied a change request: `revision` is the new layer revision. */
export const ConfigChangeApproved = Decision.extend({ revision: z.number().int().min(1) });
export type ConfigChangeApproved = z.infer<typeof ConfigChangeApproved>;

/** A change request was turned down; nothing was written. */
export const ConfigChangeRejected = Decision;
export type ConfigChangeRejected = z.infer<typeof ConfigChangeRejected>;

export const configChangeApprovedSubject = (d: Pick<ConfigChangeApproved, "layer" | "namespace">) =>
  `${CONFIG_CHANGE_APPROVED}.${d.layer}.${d.namespace}`;
export const configChangeRejectedSubject = (d: Pick<ConfigChangeRejected, "layer" | "namespace">) =>
  `${CONFIG_CHANGE_REJECTED}.${d.layer}.${d.namespace}`;
