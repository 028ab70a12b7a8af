/**
 * The registry's bodies (src/api-types.ts): each spec equal to its contract both ways
 * (spec-schema.ts says what that means), and a sample the schema parses passes the spec. The
 * second part checks that the registry documents (so answers with) exactly these schemas. The
 * access bodies are access-specs.test.ts, the drift-detector's drift-specs.test.ts.
 */
import {
  ApiErrorBody,
  ComparisonDto,
  LayerDiffDto,
  LayerDto,
  NamespaceDto,
  NamespacePageDto,
  NamespaceSchemaDto,
  PendingChangeBody,
  ResolvedDto,
  RevisionDto,
  RevisionHistoryDto,
  RevisionSummaryDto,
  WriteResultDto,
} from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import {
  ApiErrorBodySpec,
  ComparisonSpec,
  DiffSpec,
  HistorySpec,
  LayerSpec,
  NamespacePageSpec,
  NamespaceSpec,
  PendingChangeSpec,
  ResolvedSpec,
  RevisionSpec,
  RevisionSummarySpec,
  SchemaSpec,
  WriteResultSpec,
} from "../../src/api-types.js";
import type { Spec } from "../../src/shape-fns.js";
import {
  type DocumentedAnswer,
  disagreements,
  itDocuments,
  itKeepsEachSpecEqual,
  type SpecPair,
} from "./spec-schema.js";

const at = "2026-12-07T09:00:00.000Z";
const hash = "a".repeat(64);
const namespace: NamespaceDto = {
  name: "shop",
  description: "the shop",
  owners: ["team-shop"],
  environments: ["staging", "production"],
  variables: { REGION: "eu" },
  headRevision: 3,
  createdAt: at,
  updatedAt: at,
};
const summary: RevisionSummaryDto = {
  namespace: "shop",
  revision: 3,
  layer: "production",
  hash,
  author: "ed",
  message: "more",
  source: "api",
  createdAt: at,
};
const source = { layer: "base", revision: 1 };

/**
 * Where a spec is deliberately more lenient than its contract, by path. An error body is read for
 * its code, which picks the exit code: one without a request id still says what went wrong.
 */
const lenient: Record<string, string[]> = { ApiErrorBody: ["error.requestId"] };

const pairs: SpecPair[] = [
  ["NamespaceDto", NamespaceDto, NamespaceSpec, namespace],
  ["NamespacePageDto", NamespacePageDto, NamespacePageSpec, { items: [namespace], next: "shop" }],
  [
    "LayerDto",
    LayerDto,
    LayerSpec,
    {
      namespace: "shop",
      layer: "base",
      revision: 2,
      hash,
      content: { db: { password: "***" } },
      updatedAt: null,
      secretPaths: ["/db/password"],
    },
  ],
  [
    "WriteResultDto",
    WriteResultDto,
    WriteResultSpec,
    {
      namespace: "shop",
      layer: "base",
      revision: 4,
      previousRevision: 3,
      hash,
      changed: true,
      changedEnvironments: ["staging"],
    },
  ],
  [
    "PendingChangeBody",
    PendingChangeBody,
    PendingChangeSpec,
    {
      changeRequest: {
        id: "5f0c2a34-5d0e-4b7f-9d43-2b1c8d1e9a10",
        namespace: "shop",
        layer: "production",
        kind: "patch",
        content: { pool: 50 },
        baseRevision: 2,
        message: "more",
        author: "ed",
        status: "approved",
        createdAt: at,
        decidedBy: "ann",
        decidedAt: at,
        comment: "ok",
        revision: 3,
      },
      message: "approved",
    },
  ],
  ["RevisionSummaryDto", RevisionSummaryDto, RevisionSummarySpec, summary],
  ["RevisionHistoryDto", RevisionHistoryDto, HistorySpec, { items: [summary] }],
  [
    "RevisionDto",
    RevisionDto,
    RevisionSpec,
    {
      ...summary,
      content: { pool: 50 },
      secretPaths: [],
      diff: [{ op: "replace", path: "/pool", value: 50 }],
    },
  ],
  [
    "LayerDiffDto",
    LayerDiffDto,
    DiffSpec,
    { namespace: "shop", layer: "base", from: 0, to: 3, operations: [{ op: "add", path: "/a", value: 1 }] },
  ],
  [
    "ComparisonDto",
    ComparisonDto,
    ComparisonSpec,
    {
      namespace: "shop",
      from: { environment: "staging", revision: 3, hash },
      to: { environment: "production", revision: 2, hash },
      changes: [
        {
          op: "replace",
          path: "/pool",
          from: 10,
          to: 50,
          fromSource: source,
          toSource: { ...source, revision: null },
        },
        { op: "add", path: "/new", to: true, toSource: source },
      ],
    },
  ],
  [
    "ResolvedDto",
    ResolvedDto,
    ResolvedSpec,
    {
      namespace: "shop",
      environment: "production",
      revision: 3,
      hash,
      secretDigests: { "/db/password": "d1" },
      content: { pool: 50, db: { password: "***" } },
      explain: {
        "/pool": { layer: "production", revision: 3, value: 50 },
        "/db/password": { layer: "base", revision: null, value: "***", references: ["secret:db"] },
      },
    },
  ],
  [
    "NamespaceSchemaDto",
    NamespaceSchemaDto,
    SchemaSpec,
    { namespace: "shop", schema: { type: "object" }, hash, updatedBy: "ed", updatedAt: at },
  ],
  [
    "ApiErrorBody",
    ApiErrorBody,
    ApiErrorBodySpec,
    {
      error: { code: "invalid_request", message: "no", field: "/pool", details: { x: 1 }, requestId: "r-1" },
    },
  ],
];

describe("the CLI's specs and @nexus/contracts", () => {
  itKeepsEachSpecEqual(pairs, lenient);

  it("notices a spec that drifts from its schema", () => {
    const drifted = {
      ...LayerSpec,
      secretPaths: undefined,
      extra: "string",
      revision: "string",
    } as unknown as Spec;
    const { secretPaths: _, ...rest } = drifted as Record<string, Spec>;
    expect(disagreements(rest, LayerDto, [])).toEqual([
      "revision: spec string, schema number",
      "extra: in the spec, not in the schema",
      "secretPaths: required by the schema, not in the spec",
    ]);
    expect(disagreements({ ...ResolvedSpec, explain: "object" }, ResolvedDto, [])).toEqual([
      "explain: required by the spec, optional in the schema",
    ]);
    expect(disagreements(ApiErrorBodySpec, ApiErrorBody, [])).toEqual([
      "error.requestId: optional in the spec, required by the schema",
    ]);
  });
});

const documented: DocumentedAnswer[] = [
  ["/v1/namespaces", "get", "200", NamespacePageDto],
  ["/v1/namespaces", "post", "201", NamespaceDto],
  ["/v1/namespaces/{ns}", "get", "200", NamespaceDto],
  ["/v1/namespaces/{ns}", "patch", "200", NamespaceDto],
  ["/v1/namespaces/{ns}/layers/{layer}", "get", "200", LayerDto],
  ["/v1/namespaces/{ns}/layers/{layer}", "put", "200", WriteResultDto],
  ["/v1/namespaces/{ns}/layers/{layer}", "patch", "200", WriteResultDto],
  ["/v1/namespaces/{ns}/layers/{layer}/rollback", "post", "200", WriteResultDto],
  ["/v1/namespaces/{ns}/layers/{layer}/revisions", "get", "200", RevisionHistoryDto],
  ["/v1/namespaces/{ns}/layers/{layer}/revisions/{n}", "get", "200", RevisionDto],
  ["/v1/namespaces/{ns}/layers/{layer}/diff", "get", "200", LayerDiffDto],
  ["/v1/namespaces/{ns}/compare", "get", "200", ComparisonDto],
  ["/v1/namespaces/{ns}/environments/{env}/resolved", "get", "200", ResolvedDto],
  ["/v1/namespaces/{ns}/schema", "get", "200", NamespaceSchemaDto],
  ["/v1/namespaces/{ns}/schema", "put", "200", NamespaceSchemaDto],
  ["/v1/namespaces/{ns}", "get", "404", ApiErrorBody],
];

describe("the registry's OpenAPI document", () => {
  itDocuments("config-registry", documented);
});
