import { jsonSchemaTransformObject } from "fastify-type-provider-zod";

type TransformObjectInput = Parameters<typeof jsonSchemaTransformObject>[0];
type Document = { paths?: unknown; components?: { schemas?: Record<string, object> } };

const REF = /"#\/components\/schemas\/([^"]+)"/g;

/**
 * The OpenAPI document's `components.schemas`: the zod schemas registered with `.meta({ id })`
 * (recursive ones, which the routes can only `$ref`; the notifier's route tree). Ids live in zod's
 * process-wide registry, so only the schemas this document refers to (directly or through each
 * other) are kept: a process running several services (tests) gives each its own. The converter
 * leaves `$schema` and a fragment-only `$id` on each, which JSON Schema 2020-12 forbids inside a
 * document (`$id` must not carry a fragment); the `$ref`s need neither, so they are dropped.
 */
export function openApiComponents(input: TransformObjectInput): ReturnType<typeof jsonSchemaTransformObject> {
  const doc = jsonSchemaTransformObject(input) as Document;
  const all = doc.components?.schemas;
  if (!all || !doc.components) return doc as ReturnType<typeof jsonSchemaTransformObject>;
  const kept: Record<string, object> = {};
  const pending = [...JSON.stringify(doc.paths ?? {}).matchAll(REF)].map((m) => m[1]!);
  while (pending.length > 0) {
    const name = pending.pop()!;
    const schema = all[name];
    if (kept[name] || !schema) continue;
    const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
    kept[name] = rest;
    for (const m of JSON.stringify(rest).matchAll(REF)) pending.push(m[1]!);
  }
  // Sorted: the generated document must not depend on the order schemas were registered in.
  doc.components.schemas = Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b)));
  return doc as ReturnType<typeof jsonSchemaTransformObject>;
}
