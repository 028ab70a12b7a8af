/**
 * The registry's response bodies as the CLI reads them, each with the spec `api-client.ts` checks
 * it against. The shapes live once, in @nexus/contracts, where the registry's routes take them
 * from: here they are type-only imports (the CLI does not load zod; see shape-fns.ts), and the
 * specs are the run-time structural check, kept equal to the contract's zod schemas by
 * test/unit/api-specs.test.ts. Fields a newer registry adds pass through to `--json` output
 * untouched.
 */
import type {
  ApiErrorBody,
  ComparedChangeDto,
  ComparisonDto,
  CreateNamespaceBody,
  LayerDiffDto,
  LayerDto,
  NamespaceDto,
  NamespacePageDto,
  NamespaceSchemaDto,
  PendingChangeBody,
  ProvenanceDto,
  ResolvedDto,
  RevisionDto,
  RevisionHistoryDto,
  RevisionSummaryDto,
  WriteResultDto,
} from "@nexus/contracts";
import type { z } from "zod";
import type { Spec } from "./shape-fns.js";

export type Namespace = NamespaceDto;
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

export type NamespacePage = NamespacePageDto;
export const NamespacePageSpec = { items: [NamespaceSpec], next: "string|null" } as const satisfies Spec;

/** What `nexus ns create` sends: the request body before the registry's defaults apply. */
export type CreateNamespaceInput = z.input<typeof CreateNamespaceBody>;

export type Layer = LayerDto;
export const LayerSpec = {
  namespace: "string",
  layer: "string",
  revision: "number",
  hash: "string",
  content: "object",
  updatedAt: "string|null",
  secretPaths: ["string"],
} as const satisfies Spec;

export type WriteResult = WriteResultDto;
export const WriteResultSpec = {
  namespace: "string",
  layer: "string",
  revision: "number",
  previousRevision: "number",
  hash: "string",
  changed: "boolean",
  changedEnvironments: ["string"],
} as const satisfies Spec;

/** What a gated write answers (202): the change request that waits for an approver. */
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

export type RevisionSummary = RevisionSummaryDto;
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

export type History = RevisionHistoryDto;
export const HistorySpec = { items: [RevisionSummarySpec] } as const satisfies Spec;

/** `diff` holds RFC 6902 operations, which the contract leaves undescribed (see `PatchOperation`). */
export type Revision = RevisionDto;
export const RevisionSpec = {
  ...RevisionSummarySpec,
  content: "object",
  secretPaths: ["string"],
  diff: "array",
} as const satisfies Spec;

export type Diff = LayerDiffDto;
export const DiffSpec = {
  namespace: "string",
  layer: "string",
  from: "number",
  to: "number",
  operations: "array",
} as const satisfies Spec;

/**
 * An RFC 6902 operation as the CLI reads one. Not a registry shape: the contract documents a
 * diff's operations as `unknown[]` (the registry answers them as its revisions stored them), so
 * the CLI checks for itself that each is one it can show, and refuses a diff with any other.
 */
export interface PatchOperation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}
const PatchOperationSpec = { op: "string", path: "string", "from?": "string" } as const satisfies Spec;

/** A diff whose operations the CLI can show: `DiffSpec`, and every operation an RFC 6902 one. */
export type ReadableDiff = Omit<Diff, "operations"> & { operations: PatchOperation[] };
export const ReadableDiffSpec = { ...DiffSpec, operations: [PatchOperationSpec] } as const satisfies Spec;

/** `GET /v1/namespaces/{ns}/compare`: two environments side by side. */
export type ComparedChange = ComparedChangeDto;
export type Comparison = ComparisonDto;
const CompareSideSpec = { environment: "string", revision: "number", hash: "string" } as const satisfies Spec;
const ValueSourceSpec = { layer: "string", revision: "number|null" } as const satisfies Spec;
export const ComparisonSpec = {
  namespace: "string",
  from: CompareSideSpec,
  to: CompareSideSpec,
  changes: [
    {
      op: "string",
      path: "string",
      "from?": "any",
      "to?": "any",
      "fromSource?": ValueSourceSpec,
      "toSource?": ValueSourceSpec,
    },
  ],
} as const satisfies Spec;

export type Provenance = ProvenanceDto;
export type Resolved = ResolvedDto;
export const ResolvedSpec = {
  namespace: "string",
  environment: "string",
  revision: "number",
  hash: "string",
  "secretDigests?": "object",
  content: "object",
  "explain?": "object",
} as const satisfies Spec;

export type Schema = NamespaceSchemaDto;
export const SchemaSpec = {
  namespace: "string",
  schema: "object",
  hash: "string",
  updatedBy: "string",
  updatedAt: "string",
} as const satisfies Spec;

/**
 * The one error body of every Nexus API. The spec lets `requestId` be absent although every
 * Nexus service sends it: an error body is read for its code (which picks the exit code), and
 * one without a request id still says what went wrong.
 */
export type ApiError = Omit<ApiErrorBody["error"], "requestId"> & { requestId?: string };
export const ApiErrorBodySpec = {
  error: { code: "string", message: "string", "field?": "string", "requestId?": "string" },
} as const satisfies Spec;
