/**
 * What the spec tests (api-specs, access-specs, drift-specs) share: a spec compared with its zod
 * schema both ways, and the schema a service's OpenAPI document gives one answer. The CLI checks
 * answers with specs (src/shape-fns.ts) instead of zod, for start-up speed; the shapes live once,
 * in @nexus/contracts, where the services' routes take them from. Each spec must equal its
 * contract: every key the spec names is in the schema, every key the schema requires is in the
 * spec, a key the spec requires is required by the schema, and the kinds agree.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Spec } from "../../src/shape-fns.js";

/** A contract's name, its schema, the CLI's spec for it, and a sample the schema parses. */
export type SpecPair = [name: string, schema: z.ZodType, spec: Spec, sample: unknown];

/** A route's answer: path, method, status, and the contract's schema it must be documented with. */
export type DocumentedAnswer = [path: string, method: string, status: string, schema: z.ZodType];

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
export function disagreements(spec: Spec, schema: z.ZodType, allowed: string[], path = "body"): string[] {
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

/** A service's generated OpenAPI document (services/<name>/openapi.json). */
export function openApiOf(service: string): { paths: Record<string, Record<string, OpenApiOperation>> } {
  return JSON.parse(
    readFileSync(new URL(`../../../../services/${service}/openapi.json`, import.meta.url), "utf8"),
  );
}
interface OpenApiOperation {
  responses: Record<string, { content: Record<string, { schema: unknown }> }>;
}

/** The JSON Schema a route documents for one answer, if it documents one. */
export function documentedSchema(
  doc: ReturnType<typeof openApiOf>,
  [path, method, status]: DocumentedAnswer,
): unknown {
  return doc.paths[path]?.[method]?.responses[status]?.content["application/json"]?.schema;
}

/** The JSON Schema a route using `schema` as its answer documents (what the services' generator writes). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const expected = z.toJSONSchema(schema, { target: "draft-2020-12" }) as Record<string, unknown>;
  delete expected.$schema;
  return expected;
}
