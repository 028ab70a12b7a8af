import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";

type Json = Record<string, unknown>;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** Every schema object a document uses, with where it is (components, parameters, bodies, responses). */
function schemasOf(doc: Json): { at: string; schema: Json }[] {
  const found: { at: string; schema: Json }[] = [];
  const components = (doc.components as Json | undefined)?.schemas as Record<string, Json> | undefined;
  for (const [name, schema] of Object.entries(components ?? {})) {
    found.push({ at: `components.schemas.${name}`, schema });
  }
  const contentSchemas = (at: string, content: unknown) => {
    for (const [type, media] of Object.entries((content as Record<string, Json>) ?? {})) {
      if (media.schema) found.push({ at: `${at} ${type}`, schema: media.schema as Json });
    }
  };
  for (const [path, item] of Object.entries((doc.paths as Record<string, Json>) ?? {})) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      for (const p of (op.parameters as Json[]) ?? []) {
        if (p.schema) found.push({ at: `${where} parameter ${String(p.name)}`, schema: p.schema as Json });
      }
      contentSchemas(`${where} request body`, (op.requestBody as Json | undefined)?.content);
      for (const [status, res] of Object.entries((op.responses as Record<string, Json>) ?? {})) {
        contentSchemas(`${where} response ${status}`, res.content);
      }
    }
  }
  return found;
}

/**
 * Problems of an OpenAPI 3.1 document, empty when there are none: the document against the
 * OpenAPI specification (structure and every `$ref` resolving, by @apidevtools/swagger-parser),
 * then each schema it holds against the JSON Schema 2020-12 meta-schema (Ajv), which the OpenAPI
 * check leaves loose.
 */
export async function openApiProblems(doc: Json): Promise<string[]> {
  const problems: string[] = [];
  try {
    // validate() dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(doc) as never);
  } catch (err) {
    problems.push(`OpenAPI: ${(err as Error).message}`);
  }
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  for (const { at, schema } of schemasOf(doc)) {
    if (!ajv.validateSchema(schema)) {
      problems.push(`${at}: ${ajv.errorsText(ajv.errors)}`);
    }
  }
  return problems;
}
