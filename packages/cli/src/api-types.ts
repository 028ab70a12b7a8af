/**
 * The registry's response bodies as the CLI reads them (see services/config-registry/openapi.json).
 * Loose objects: fields a newer registry adds pass through to `--json` output untouched.
 */
import { z } from "zod";

const JsonObject = z.record(z.string(), z.unknown());

export const Namespace = z.looseObject({
  name: z.string(),
  description: z.string(),
  owners: z.array(z.string()),
  environments: z.array(z.string()),
  variables: z.record(z.string(), z.string()),
  headRevision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Namespace = z.infer<typeof Namespace>;

export const NamespacePage = z.looseObject({ items: z.array(Namespace), next: z.string().nullable() });

export const Layer = z.looseObject({
  namespace: z.string(),
  layer: z.string(),
  revision: z.number().int(),
  hash: z.string(),
  content: JsonObject,
  updatedAt: z.string().nullable(),
});
export type Layer = z.infer<typeof Layer>;

export const WriteResult = z.looseObject({
  namespace: z.string(),
  layer: z.string(),
  revision: z.number().int(),
  previousRevision: z.number().int(),
  hash: z.string(),
  changed: z.boolean(),
  changedEnvironments: z.array(z.string()),
});
export type WriteResult = z.infer<typeof WriteResult>;

export const RevisionSummary = z.looseObject({
  namespace: z.string(),
  revision: z.number().int(),
  layer: z.string(),
  hash: z.string(),
  author: z.string(),
  message: z.string(),
  source: z.string(),
  createdAt: z.string(),
});
export type RevisionSummary = z.infer<typeof RevisionSummary>;

export const History = z.looseObject({ items: z.array(RevisionSummary) });

export const Revision = RevisionSummary.extend({ content: JsonObject, diff: z.array(z.unknown()) });
export type Revision = z.infer<typeof Revision>;

export const PatchOperation = z.looseObject({
  op: z.string(),
  path: z.string(),
  value: z.unknown().optional(),
  from: z.string().optional(),
});
export type PatchOperation = z.infer<typeof PatchOperation>;

export const Diff = z.looseObject({
  namespace: z.string(),
  layer: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  operations: z.array(PatchOperation),
});
export type Diff = z.infer<typeof Diff>;

export const Provenance = z.looseObject({
  layer: z.string(),
  revision: z.number().int().nullable(),
  value: z.unknown(),
  references: z.array(z.string()).optional(),
});
export type Provenance = z.infer<typeof Provenance>;

export const Resolved = z.looseObject({
  namespace: z.string(),
  environment: z.string(),
  revision: z.number().int(),
  hash: z.string(),
  content: JsonObject,
  explain: z.record(z.string(), Provenance).optional(),
});
export type Resolved = z.infer<typeof Resolved>;

export const Schema = z.looseObject({
  namespace: z.string(),
  schema: JsonObject,
  hash: z.string(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});
export type Schema = z.infer<typeof Schema>;

export interface CreateNamespaceInput {
  name: string;
  description?: string | undefined;
  owners?: string[] | undefined;
  environments?: string[] | undefined;
}
