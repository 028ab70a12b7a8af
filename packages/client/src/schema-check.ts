import type { ConfigSchema } from "./options.js";

export type SchemaCheck<T> = { ok: true; value: T } | { ok: false; message: string };

/** Validate resolved content with the application's schema; without one the content is the value. */
export function checkSchema<T>(
  schema: ConfigSchema<T> | undefined,
  content: Record<string, unknown>,
): SchemaCheck<T> {
  if (!schema) return { ok: true, value: content as T };
  const result = schema.safeParse(content);
  if (result.success) return { ok: true, value: result.data };
  const message = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? `/${i.path.map(String).join("/")}` : "(root)"}: ${i.message}`)
    .join("; ");
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : "";
  return { ok: false, message: `${message}${more}` };
}
