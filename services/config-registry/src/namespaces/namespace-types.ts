/** The layer every environment of a namespace starts from. */
export const BASE_LAYER = "base";

import { EnvironmentName, NamespaceName } from "@nexus/contracts";
import { z } from "zod";

export interface Namespace {
  name: string;
  description: string;
  owners: string[];
  environments: string[];
  variables: Record<string, string>;
  headRevision: number;
  createdAt: string;
  updatedAt: string;
}

const VariableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must look like an environment variable name");
export const Variables = z
  .record(VariableName, z.string().max(4096))
  .refine((v) => Object.keys(v).length <= 500, "at most 500 variables");

const Owner = z.string().min(1).max(200);

export const CreateNamespaceBody = z.strictObject({
  name: NamespaceName,
  description: z.string().max(1000).default(""),
  owners: z.array(Owner).max(50).default([]),
  environments: z.array(EnvironmentName).min(1).max(50).optional(),
  variables: Variables.default({}),
});
export type CreateNamespaceBody = z.infer<typeof CreateNamespaceBody>;

export const UpdateNamespaceBody = z.strictObject({
  description: z.string().max(1000).optional(),
  owners: z.array(Owner).max(50).optional(),
  /** The full list; environments can be added, or removed while they have no overlay. */
  environments: z.array(EnvironmentName).min(1).max(50).optional(),
  variables: Variables.optional(),
});
export type UpdateNamespaceBody = z.infer<typeof UpdateNamespaceBody>;

export const NamespaceDto = z.object({
  name: z.string(),
  description: z.string(),
  owners: z.array(z.string()),
  environments: z.array(z.string()),
  variables: z.record(z.string(), z.string()),
  headRevision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const NamespaceParams = z.object({ ns: NamespaceName });
