import { changedPaths } from "./changed-paths.js";
import { reasonOf } from "./errors.js";
import type { ConfigSchema } from "./options.js";
import type { ResolvedDocument } from "./registry-reader.js";
import { checkSchema } from "./schema-check.js";
import type { ChangeListener } from "./types.js";

export type ChangeOutcome<T> =
  | { status: "applied"; value: T; changedPaths: string[] }
  | { status: "rejected"; reason: string };

/**
 * Offer a new document to the application: the schema first (a config that fails it never
 * reaches a handler), then every change listener in registration order. The first listener
 * that throws refuses the document; its message becomes the `rejected` reason.
 */
export async function offerChange<T>(
  schema: ConfigSchema<T> | undefined,
  listeners: Iterable<ChangeListener<T>>,
  current: { content: Record<string, unknown>; value: T },
  next: ResolvedDocument,
): Promise<ChangeOutcome<T>> {
  const checked = checkSchema(schema, next.content);
  if (!checked.ok) return { status: "rejected", reason: `schema: ${checked.message}` };
  const paths = changedPaths(current.content, next.content);
  try {
    for (const listener of listeners) await listener(checked.value, current.value, paths);
  } catch (err) {
    return { status: "rejected", reason: reasonOf(err) || "change handler failed" };
  }
  return { status: "applied", value: checked.value, changedPaths: paths };
}
