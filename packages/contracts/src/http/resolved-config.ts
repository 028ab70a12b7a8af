import { z } from "zod";
import { ContentHash, EnvironmentName, NamespaceName } from "../identifiers.js";

/**
 * JSON pointer → keyed digest of each secret in `content` (whose values there are `"***"`, or the
 * plaintext for a secret-reader). `hash` covers `{"$secret":{"digest":<d>}}` at those pointers, so
 * a client can check the hash without knowing any secret.
 */
export const SecretDigests = z.record(z.string(), z.string());

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
  secretDigests: SecretDigests.optional(),
  content: z.record(z.string(), z.unknown()),
});
export type ResolvedConfigBody = z.infer<typeof ResolvedConfigBody>;
