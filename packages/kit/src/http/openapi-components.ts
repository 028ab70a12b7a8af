import { jsonSchemaTransformObject } from "fastify-type-provider-zod";

type TransformObjectInput = Parameters<typeof jsonSchemaTransformObject>[0];

/**
 * The OpenAPI document's `components.schemas`: the zod schemas registered with `.meta({ id })`
 * (recursive ones, which the routes can only `$ref`; the notifier's route tree). The converter
 * leaves `$schema` and a fragment-only `$id` on each, which JSON Schema 2020-12 forbids inside a
 * document (`$id` must not carry a fragment); the `$ref`s need neither, so they are dropped.
 */
export function openApiComponents(input: TransformObjectInput): ReturnType<typeof jsonSchemaTransformObject> {
  const doc = jsonSchemaTransformObject(input) as { components?: { schemas?: Record<string, object> } };
  const schemas = doc.components?.schemas;
  if (schemas) {
    for (const [name, schema] of Object.entries(schemas)) {
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      schemas[name] = rest;
    }
  }
  return doc as ReturnType<typeof jsonSchemaTransformObject>;
}
