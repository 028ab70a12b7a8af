/**
 * The registry's response bodies as the CLI reads them (see services/config-registry/openapi.json),
 * each with the spec `api-client.ts` checks it against. Fields a newer registry adds pass through
 * to `--json` output untouched.
 */
import type { PendingChangeBody } from "@nexus/contracts";
import type { Spec } from "./shape-fns.js";

type JsonObject = Record<string, unknown>;

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
export const NamespaceSpec = {
  name: "string",
  description: "string",
  owners: ["string"],
  environments: ["string"],
  variables: "object",
  headRevision: "number",
  createdAt: "string",
  updatedAt: "string",
} as const satisfies Spec;

export interface NamespacePage {
  items: Namespace[];
  next: string | null;
}
export const NamespacePageSpec = { items: [NamespaceSpec], next: "string|null" } as const satisfies Spec;

export interface Layer {
  namespace: string;
  layer: string;
  revision: number;
  hash: string;
  content: JsonObject;
  updatedAt: string | null;
}
export const LayerSpec = {
  namespace: "string",
  layer: "string",
  revision: "number",
  hash: "string",
  content: "object",
  updatedAt: "string|null",
} as const satisfies Spec;

export interface WriteResult {
  namespace: string;
  layer: string;
  revision: number;
  previousRevision: number;
  hash: string;
  changed: boolean;
  changedEnvironments: string[];
}
export const WriteResultSpec = {
  namespace: "string",
  layer: "string",
  revision: "number",
  previousRevision: "number",
  hash: "string",
  changed: "boolean",
  changedEnvironments: ["string"],
} as const satisfies Spec;

/**
 * What a gated write answers (202): the change request that waits for an approver. The shape is
 * @nexus/contracts' `PendingChangeBody` (a type-only import: the CLI does not load zod); the spec
 * is the structural check, kept equal to it by a unit test.
 */
export type PendingChange = PendingChangeBody;
export const PendingChangeSpec = {
  changeRequest: {
    id: "string",
    namespace: "string",
    layer: "string",
    kind: "string",
    content: "object",
    baseRevision: "number",
    message: "string",
    author: "string",
    status: "string",
    createdAt: "string",
    decidedBy: "string|null",
    decidedAt: "string|null",
    comment: "string",
    revision: "number|null",
  },
  message: "string",
} as const satisfies Spec;

/** A layer write's outcome: a new revision (200), or a change request opened instead (202). */
export type WriteOutcome = { written: WriteResult } | { pending: PendingChange };

export interface RevisionSummary {
  namespace: string;
  revision: number;
  layer: string;
  hash: string;
  author: string;
  message: string;
  source: string;
  createdAt: string;
}
export const RevisionSummarySpec = {
  namespace: "string",
  revision: "number",
  layer: "string",
  hash: "string",
  author: "string",
  message: "string",
  source: "string",
  createdAt: "string",
} as const satisfies Spec;

export interface History {
  items: RevisionSummary[];
}
export const HistorySpec = { items: [RevisionSummarySpec] } as const satisfies Spec;

export interface Revision extends RevisionSummary {
  content: JsonObject;
  diff: unknown[];
}
export const RevisionSpec = {
  ...RevisionSummarySpec,
  content: "object",
  diff: "array",
} as const satisfies Spec;

export interface PatchOperation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}
const PatchOperationSpec = { op: "string", path: "string", "from?": "string" } as const satisfies Spec;

export interface Diff {
  namespace: string;
  layer: string;
  from: number;
  to: number;
  operations: PatchOperation[];
}
export const DiffSpec = {
  namespace: "string",
  layer: "string",
  from: "number",
  to: "number",
  operations: [PatchOperationSpec],
} as const satisfies Spec;

/** `GET /v1/namespaces/{ns}/compare`: two environments side by side. */
export interface ComparedChange {
  op: "add" | "remove" | "replace";
  path: string;
  from?: unknown;
  to?: unknown;
  fromSource?: { layer: string; revision: number | null };
  toSource?: { layer: string; revision: number | null };
}
export interface Comparison {
  namespace: string;
  from: { environment: string; revision: number; hash: string };
  to: { environment: string; revision: number; hash: string };
  changes: ComparedChange[];
}
const CompareSideSpec = { environment: "string", revision: "number", hash: "string" } as const satisfies Spec;
export const ComparisonSpec = {
  namespace: "string",
  from: CompareSideSpec,
  to: CompareSideSpec,
  changes: [{ op: "string", path: "string", "from?": "any", "to?": "any" }],
} as const satisfies Spec;

export interface Provenance {
  layer: string;
  revision: number | null;
  value: unknown;
  references?: string[];
}

export interface Resolved {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  content: JsonObject;
  explain?: Record<string, Provenance>;
}
export const ResolvedSpec = {
  namespace: "string",
  environment: "string",
  revision: "number",
  hash: "string",
  content: "object",
  "explain?": "object",
} as const satisfies Spec;

export interface Schema {
  namespace: string;
  schema: JsonObject;
  hash: string;
  updatedBy: string;
  updatedAt: string;
}
export const SchemaSpec = {
  namespace: "string",
  schema: "object",
  hash: "string",
  updatedBy: "string",
  updatedAt: "string",
} as const satisfies Spec;

/** The one error body of every Nexus API (`ApiErrorBody` in @nexus/contracts). */
export interface ApiError {
  code: string;
  message: string;
  field?: string;
  details?: unknown;
  requestId?: string;
}
export const ApiErrorBodySpec = {
  error: { code: "string", message: "string", "field?": "string", "requestId?": "string" },
} as const satisfies Spec;

export interface CreateNamespaceInput {
  name: string;
  description?: string | undefined;
  owners?: string[] | undefined;
  environments?: string[] | undefined;
}
