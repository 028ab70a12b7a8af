import { z } from "zod";

/**
 * The config-registry's `GET` / `PUT /v1/namespaces/{ns}/schema`: the JSON Schema every resolved
 * environment of the namespace must satisfy.
 */
export const NamespaceSchemaDto = z.object({
  namespace: z.string(),
  schema: z.record(z.string(), z.unknown()),
  hash: z.string(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});
export type NamespaceSchemaDto = z.infer<typeof NamespaceSchemaDto>;
