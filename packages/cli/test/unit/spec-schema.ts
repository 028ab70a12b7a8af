/**
 * What the spec tests (api-specs, access-specs, drift-specs) share: a spec compared with its zod
 * schema both ways, and the schema a service's OpenAPI document gives one answer. The CLI checks
 * answers with specs (src/shape-fns.ts) instead of zod, for start-up speed; the shapes live once,
 * in @nexus/contracts, where the services' routes take them from. Each spec must equal its
 * contract: every key the spec names is in the schema, every key the schema requires is in the
 * spec, a key the spec requires is required by the schema, and the kinds agree.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { z } from "zod";
import { mismatch, type Spec } from "../../src/shape-fns.js";

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

/**
 * Each pair's two checks: the spec names what the schema does, both ways; and a sample the schema
 * parses passes the spec. `lenient`: where a spec is deliberately more lenient than its contract,
 * by the contract's name, the paths it may leave optional.
 */
export function itKeepsEachSpecEqual(pairs: SpecPair[], lenient: Record<string, string[]> = {}): void {
  it.each(pairs)("%s: the spec names what the schema does, both ways", (name, schema, spec) => {
    expect(disagreements(spec, schema, lenient[name] ?? [])).toEqual([]);
  });

  it.each(pairs)("%s: a sample the schema parses passes the spec", (_name, schema, spec, sample) => {
    expect(mismatch(schema.parse(sample), spec)).toBeUndefined();
  });
}

/** That a service's generated OpenAPI document (so its answers) uses exactly the contracts' schemas. */
export function itDocuments(service: string, answers: DocumentedAnswer[]): void {
  const doc = JSON.parse(
    readFileSync(new URL(`../../../../services/${service}/openapi.json`, import.meta.url), "utf8"),
  ) as { paths: Record<string, Record<string, OpenApiOperation>> };
  it.each(answers)(
    `${service}: %s %s answers %s with the contract's schema`,
    (path, method, status, schema) => {
      const documented = doc.paths[path]?.[method]?.responses[status]?.content["application/json"]?.schema;
      const expected = z.toJSONSchema(schema, { target: "draft-2020-12" }) as Record<string, unknown>;
      delete expected.$schema;
      expect(documented).toEqual(expected);
    },
  );
}
interface OpenApiOperation {
  responses: Record<string, { content: Record<string, { schema: unknown }> }>;
}
