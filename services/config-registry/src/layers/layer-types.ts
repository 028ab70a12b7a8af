import { NamespaceName } from "@nexus/contracts";
import { z } from "zod";

export { BASE_LAYER } from "../namespaces/namespace-types.js";

export interface LayerHead {
  namespace: string;
  layer: string;
  revision: number;
  content: Record<string, unknown>;
  hash: string;
  updatedAt: string;
}

/** A layer as read through the API: where it stores secrets beside its (shown) content. */
export interface LayerRead extends LayerHead {
  /** Where this layer itself stores a secret (shown `"***"` or revealed in `content`). */
  secretPaths: string[];
}

export const LayerParams = z.object({
  ns: NamespaceName,
  layer: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "must be `base` or an environment name"),
});
