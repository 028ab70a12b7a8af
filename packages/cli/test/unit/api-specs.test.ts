/**
 * The CLI checks the registry's answers with specs (shape-fns.ts) instead of zod, for start-up
 * speed; the shapes themselves live once, in @nexus/contracts, where the registry's routes take
 * them from. This keeps each spec equal to its contract both ways: every key the spec names is in
 * the schema, every key the schema requires is in the spec, a key the spec requires is required
 * by the schema, and the kinds agree; and a sample the schema parses passes the spec. The second
 * part checks that the registry documents (so answers with) exactly these schemas.
 */
import { readFileSync } from "node:fs";
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
import { z } from "zod";
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
import { mismatch, type Spec } from "../../src/shape-fns.js";

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

const pairs: [string, z.ZodType, Spec, unknown][] = [
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

/** The schema inside optional / nullable / default wrappers, and what the wrappers allow. */
function unwrap(schema: z.ZodType): { inner: z.ZodType; optional: boolean; nullable: boolean } {
  let inner = schema;
  let optional = false;
  let nullable = false;
  for (;;) {
    if (inner instanceof z.ZodOptional) optional = true;
    else if (inner instanceof z.ZodNullable) nullable = true;
    else if (!(inner instanceof z.ZodDefault)) return { inner, optional, nullable };
    inner = (inner as z.ZodOptional | z.ZodNullable | z.ZodDefault).unwrap() as z.ZodType;
  }
}

/** What a value the schema accepts is, in the spec's words. */
function kindsOf(schema: z.ZodType): string[] {
  const { inner, nullable } = unwrap(schema);
  const kind =
    inner instanceof z.ZodString || inner instanceof z.ZodEnum
      ? "string"
      : inner instanceof z.ZodNumber
        ? "number"
        : inner instanceof z.ZodBoolean
          ? "boolean"
          : inner instanceof z.ZodObject || inner instanceof z.ZodRecord
            ? "object"
            : inner instanceof z.ZodArray
              ? "array"
              : inner instanceof z.ZodUnknown || inner instanceof z.ZodAny
                ? "any"
                : `unknown zod type ${inner.constructor.name}`;
  return nullable ? [kind, "null"].sort() : [kind];
}

/** Every disagreement between a spec and a schema, as `path: what`. */
function disagreements(spec: Spec, schema: z.ZodType, allowed: string[], path = "body"): string[] {
  const { inner } = unwrap(schema);
  if (typeof spec === "string") {
    const kinds = spec.split("|").sort();
    if (kinds.includes("any")) return [];
    const expected = kindsOf(schema);
    return kinds.join("|") === expected.join("|")
      ? []
      : [`${path}: spec ${spec}, schema ${expected.join("|")}`];
  }
  if (Array.isArray(spec)) {
    if (!(inner instanceof z.ZodArray))
      return [`${path}: spec is an array, schema ${kindsOf(schema).join("|")}`];
    return disagreements(spec[0] as Spec, inner.element as z.ZodType, allowed, `${path}[]`);
  }
  if (!(inner instanceof z.ZodObject))
    return [`${path}: spec is an object, schema ${kindsOf(schema).join("|")}`];
  const shape = inner.shape as Record<string, z.ZodType>;
  const found: string[] = [];
  const named = new Map(
    Object.entries(spec as Record<string, Spec>).map(([k, v]) => [
      k.replace(/\?$/, ""),
      { optional: k.endsWith("?"), spec: v },
    ]),
  );
  for (const [key, { optional, spec: child }] of named) {
    const keyPath = path === "body" ? key : `${path}.${key}`;
    const field = shape[key];
    if (!field) {
      found.push(`${keyPath}: in the spec, not in the schema`);
      continue;
    }
    const schemaOptional = unwrap(field).optional;
    if (!optional && schemaOptional) found.push(`${keyPath}: required by the spec, optional in the schema`);
    if (optional && !schemaOptional && !allowed.includes(keyPath))
      found.push(`${keyPath}: optional in the spec, required by the schema`);
    found.push(...disagreements(child, field, allowed, keyPath));
  }
  for (const [key, field] of Object.entries(shape)) {
    const keyPath = path === "body" ? key : `${path}.${key}`;
    if (!named.has(key) && !unwrap(field).optional)
      found.push(`${keyPath}: required by the schema, not in the spec`);
  }
  return found;
}

describe("the CLI's specs and @nexus/contracts", () => {
  it.each(pairs)("%s: the spec names what the schema does, both ways", (name, schema, spec) => {
    expect(disagreements(spec, schema, lenient[name] ?? [])).toEqual([]);
  });

  it.each(pairs)("%s: a sample the schema parses passes the spec", (_name, schema, spec, sample) => {
    const parsed = schema.parse(sample);
    expect(mismatch(parsed, spec)).toBeUndefined();
  });

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

const registryOpenApi = JSON.parse(
  readFileSync(new URL("../../../../services/config-registry/openapi.json", import.meta.url), "utf8"),
);

const documented: [string, string, string, z.ZodType][] = [
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
  it.each(documented)("%s %s answers %s with the contract's schema", (path, method, status, schema) => {
    const expected = z.toJSONSchema(schema, { target: "draft-2020-12" }) as Record<string, unknown>;
    delete expected.$schema;
    const op = registryOpenApi.paths[path]?.[method];
    expect(op?.responses[status]?.content["application/json"].schema).toEqual(expected);
  });
});
