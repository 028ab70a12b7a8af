/**
 * What a registry can do, read from its OpenAPI document, so the CLI neither guesses nor sends a
 * parameter an older registry would silently ignore. No I/O.
 */

export const RESOLVED_PATH = "/v1/namespaces/{ns}/environments/{env}/resolved";

/** Does `doc` declare query parameter `name` on `method path`? */
export function declaresQueryParam(doc: unknown, path: string, method: string, name: string): boolean {
  const paths = field(doc, "paths");
  const operation = field(field(paths, path), method.toLowerCase());
  const parameters = field(operation, "parameters");
  if (!Array.isArray(parameters)) return false;
  return parameters.some((p) => field(p, "in") === "query" && field(p, "name") === name);
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
