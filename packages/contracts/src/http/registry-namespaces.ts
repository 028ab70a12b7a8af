import { z } from "zod";
import { EnvironmentName, NamespaceName } from "../identifiers.js";

/**
 * Namespaces as the config-registry's `/v1/namespaces…` routes take and show them: the registry
 * validates and documents with these schemas, the CLI (`nexus ns …`) reads them (type-only: it
 * checks answers structurally, without zod).
 */

const VariableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must look like an environment variable name");

/** A namespace's variables (`${var:NAME}` in any of its layers): name → value. */
export const NamespaceVariables = z
  .record(VariableName, z.string().max(4096))
  .refine((v) => Object.keys(v).length <= 500, "at most 500 variables");

const Owner = z.string().min(1).max(200);

/** `POST /v1/namespaces`. Without `environments`, the registry's default list. */
export const CreateNamespaceBody = z.strictObject({
  name: NamespaceName,
  description: z.string().max(1000).default(""),
  owners: z.array(Owner).max(50).default([]),
  environments: z.array(EnvironmentName).min(1).max(50).optional(),
  variables: NamespaceVariables.default({}),
});
export type CreateNamespaceBody = z.infer<typeof CreateNamespaceBody>;

/** `PATCH /v1/namespaces/{ns}`: only the fields given change. */
export const UpdateNamespaceBody = z.strictObject({
  description: z.string().max(1000).optional(),
  owners: z.array(Owner).max(50).optional(),
  /** The full list; environments can be added, or removed while they have no overlay. */
  environments: z.array(EnvironmentName).min(1).max(50).optional(),
  variables: NamespaceVariables.optional(),
});
export type UpdateNamespaceBody = z.infer<typeof UpdateNamespaceBody>;

export const NamespaceDto = z.object({
  name: z.string(),
  description: z.string(),
  owners: z.array(z.string()),
  environments: z.array(z.string()),
  variables: z.record(z.string(), z.string()),
  /** The namespace's newest revision (revisions are numbered per namespace); 0 before any write. */
  headRevision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type NamespaceDto = z.infer<typeof NamespaceDto>;

/** `GET /v1/namespaces`: by name; `next` is the `after` of the next page, null on the last. */
export const NamespacePageDto = z.object({ items: z.array(NamespaceDto), next: z.string().nullable() });
export type NamespacePageDto = z.infer<typeof NamespacePageDto>;
