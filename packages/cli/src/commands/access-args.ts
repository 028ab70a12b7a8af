/** Parsers for the token and audit commands; a bad value is a usage error (exit 2). No I/O. */
import { InvalidArgumentError } from "commander";
import { CliError, usageError } from "../exit-codes.js";

const TOKEN_ID = /^[0-9a-f]{16}$/;

/**
 * A token id (16 hex characters). Checked in the action rather than by commander, which would
 * quote the value: someone who pastes the token itself must not see it echoed into logs.
 */
export function tokenIdOf(value: string): string {
  if (TOKEN_ID.test(value)) return value;
  if (value.startsWith("nxs_")) {
    throw usageError(
      "that is a token, not a token id",
      "id",
      "The id is the 16 characters after nxs_ (also in `nexus token list`); treat the token you pasted as exposed if others can see your shell history.",
    );
  }
  throw usageError("a token id is 16 hex characters (see `nexus token list`)", "id");
}

const RELATIVE = /^(\d{1,6})([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since` / `--until`: an ISO date or time, or a span back from now (`30m`, `2h`, `7d`); ISO out. */
export function parseTimeBound(value: string, now = Date.now()): string {
  const relative = RELATIVE.exec(value);
  if (relative) {
    const ms = Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
    return new Date(now - ms).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return at.toISOString();
  }
  throw new InvalidArgumentError(
    "Expected an ISO date or time (2026-11-21, 2026-11-21T10:00:00Z) or a span back from now (30m, 2h, 7d).",
  );
}

/** `--actor`: as the audit log names callers; a bare token id means that token. */
export function parseActor(value: string): string {
  if (TOKEN_ID.test(value)) return `token:${value}`;
  if (value.trim() === "")
    throw new InvalidArgumentError("Expected token:<id>, oidc:<subject> or anonymous.");
  return value;
}

/** `--resource`: a path prefix such as `/v1/namespaces/payments`. */
export function parseResource(value: string): string {
  if (!value.startsWith("/")) {
    throw new InvalidArgumentError("Expected a request path such as /v1/namespaces/payments.");
  }
  return value;
}

export function nonNegativeInt(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError("Expected a whole number from 0.");
  return Number(value);
}

const GRANT_FIELD = /^grants\.(\d+)$/;

/**
 * The registry refuses a bad grant with 422 and the field `grants.<i>`; say which `--grant` it
 * was, in the words the user typed. Other errors pass through unchanged.
 */
export function grantRefusal(err: unknown, grants: readonly string[]): unknown {
  if (!(err instanceof CliError) || err.field === undefined) return err;
  const match = GRANT_FIELD.exec(err.field);
  if (!match) return err;
  const text = grants[Number(match[1])];
  if (text === undefined) return err;
  return new CliError(`--grant ${JSON.stringify(text)} is not a grant`, {
    exitCode: err.exitCode,
    code: err.code,
    field: err.field,
    status: err.status,
    requestId: err.requestId,
    details: err.details,
    hint: "Write role, role:namespacePattern or role:namespacePattern:environmentPattern, with role one of viewer, editor, approver, secret-reader, admin; e.g. --grant editor:payments-*:staging.",
    cause: err,
  });
}
