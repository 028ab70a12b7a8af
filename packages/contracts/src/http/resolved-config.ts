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

/** Where one key's value came from (`?explain=true`). */
export const ProvenanceDto = z.object({
  /** The layer that last set the value (after `null` deletes). */
  layer: z.string(),
  /** That layer's revision; null when the layer was never written. */
  revision: z.number().int().nullable(),
  /** The resolved value of the leaf. */
  value: z.unknown(),
  /** The references the value went through (canonical ids). */
  references: z.array(z.string()).optional(),
});
export type ProvenanceDto = z.infer<typeof ProvenanceDto>;

/**
 * The registry's documented answer of the same route: `ResolvedConfigBody`, and with
 * `?explain=true` the provenance of each leaf (JSON pointer → where its value came from).
 */
export const ResolvedDto = ResolvedConfigBody.extend({
  secretDigests: SecretDigests.optional().describe(
    'Documents with secrets: JSON pointer → keyed digest of each secret. The hash covers each secret as {"$secret":{"digest":<digest>}} in place of its value.',
  ),
  explain: z.record(z.string(), ProvenanceDto).optional(),
});
export type ResolvedDto = z.infer<typeof ResolvedDto>;
