/** What resolution reports when references cannot be resolved, and the one 422 it throws for them. */
import { ValidationError } from "@nexus/kit";

export type ReferenceErrorCode =
  | "reference_cycle"
  | "reference_missing"
  | "variable_missing"
  | "namespace_missing"
  | "reference_invalid"
  | "reference_not_secret";

export interface ReferenceProblem {
  code: ReferenceErrorCode;
  /** The namespace whose document holds the string with the bad reference. */
  namespace: string;
  /** JSON pointer of that string in that namespace's document. */
  pointer: string;
  /** The reference as written, e.g. `${ref:db.host}`. */
  reference: string;
  message: string;
  /** `"<namespace>:<pointer>"` of the strings being resolved, outermost first. */
  chain: string[];
}

/** One `ValidationError` for every problem found, the first named in its message and field. */
export function referenceError(namespace: string, problems: ReferenceProblem[]): ValidationError {
  const first = problems[0];
  if (first === undefined)
    return new ValidationError("reference_invalid", "the document's references cannot be resolved");
  const prefix = `${namespace}:`;
  const local =
    first.namespace === namespace
      ? first.pointer
      : first.chain[0]?.startsWith(prefix)
        ? first.chain[0].slice(prefix.length)
        : undefined;
  const more = problems.length - 1;
  const message =
    more > 0 ? `${first.message} (and ${more} more reference problem${more > 1 ? "s" : ""})` : first.message;
  return new ValidationError(first.code, message, {
    field: local ?? first.pointer,
    details: {
      namespace: first.namespace,
      pointer: first.pointer,
      reference: first.reference,
      chain: first.chain,
      errors: problems,
    },
  });
}
