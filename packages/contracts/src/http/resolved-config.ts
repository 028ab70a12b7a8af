import { z } from "zod";
import { ContentHash, EnvironmentName, NamespaceName } from "../identifiers.js";

/**
 * Body of `GET /v1/namespaces/{ns}/environments/{env}/resolved` (without `?explain`). The
 * response also carries `ETag: "<hash>"` and `Nexus-Revision: <revision>`; `If-None-Match` → 304.
 */
export const ResolvedConfigBody = z.object({
  namespace: NamespaceName,
  environment: EnvironmentName,
  /** 0 when nothing was ever written to the namespace. */
  revision: z.number().int().min(0),
  hash: ContentHash,
  content: z.record(z.string(), z.unknown()),
});
export type ResolvedConfigBody = z.infer<typeof ResolvedConfigBody>;
