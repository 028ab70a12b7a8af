/** How failures read on stderr: plain words first, then what a person needs to act on. No I/O. */
import { CliError, ExitCode } from "../exit-codes.js";

interface Violation {
  pointer: string;
  message: string;
}

/** Schema violations / issues the registry sends in `details`, as `pointer: message` pairs. */
export function violationsOf(details: unknown): Violation[] {
  if (typeof details !== "object" || details === null) return [];
  const d = details as Record<string, unknown>;
  const list = d.violations ?? d.errors ?? d.issues;
  if (!Array.isArray(list)) return [];
  const out: Violation[] = [];
  for (const item of list) {
    if (typeof item !== "object" || item === null) continue;
    const v = item as Record<string, unknown>;
    const pointer = typeof v.pointer === "string" ? v.pointer : typeof v.field === "string" ? v.field : "";
    const message = typeof v.message === "string" ? v.message : "";
    if (message) out.push({ pointer, message });
  }
  return out;
}

/**
 * ```
 * error: the document breaks its JSON Schema at /database/ssl: must be boolean
 *   field: /database/ssl
 *   /database/ssl: must be boolean
 *   (code schema_violation, HTTP 422, request id req-1)
 * hint: ...
 * ```
 */
export function formatError(err: CliError): string {
  const lines = [`error: ${err.message}`];
  if (err.field !== undefined && err.field !== "") lines.push(`  field: ${err.field}`);
  const violations = violationsOf(err.details);
  if (violations.length > 1 || (violations.length === 1 && violations[0]!.pointer !== err.field)) {
    for (const v of violations.slice(0, 20)) lines.push(`  ${v.pointer || "(root)"}: ${v.message}`);
    if (violations.length > 20) lines.push(`  … and ${violations.length - 20} more`);
  }
  const facts = [`code ${err.code}`];
  if (err.status !== undefined) facts.push(`HTTP ${err.status}`);
  if (err.requestId !== undefined) facts.push(`request id ${err.requestId}`);
  lines.push(`  (${facts.join(", ")})`);
  if (err.hint) lines.push(`hint: ${err.hint}`);
  return `${lines.join("\n")}\n`;
}

/** The `--json` form of an error, written to stderr as one line. */
export function errorAsJson(err: CliError) {
  return {
    error: {
      code: err.code,
      message: err.message,
      exitCode: err.exitCode,
      ...(err.field !== undefined ? { field: err.field } : {}),
      ...(err.status !== undefined ? { status: err.status } : {}),
      ...(err.requestId !== undefined ? { requestId: err.requestId } : {}),
      ...(err.details !== undefined ? { details: err.details } : {}),
      ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    },
  };
}

/** Anything thrown that is not a CliError is a bug in the CLI: say so, exit 1. */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CliError(`unexpected failure: ${message}`, {
    exitCode: ExitCode.error,
    code: "internal",
    cause: err,
  });
}
