import { accessFailure } from "./access-errors-fns.js";

/**
 * Exit codes scripts can rely on, and the one place that decides which failure gets which.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | ok |
 * | 1 | error: network, server 5xx, not found, not available from this deployment |
 * | 2 | usage: unknown command or flag, bad argument, unreadable file, no registry configured |
 * | 3 | conflict: HTTP 409 / 412 (someone changed the layer since you read it; name taken) |
 * | 4 | validation failed: HTTP 400 / 413 / 422, or a local document that does not parse |
 * | 5 | access refused: HTTP 401 (no token, unknown, expired or revoked token) / 403 (a role is missing) |
 * | 6 | change request opened: HTTP 202 on a write to a protected environment; nothing is written until an approver approves it |
 *
 * HTTP 429 (too many failed logins from this address) stays 1; `--json` errors carry
 * `retryAfterSeconds` so a script can wait that long.
 */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  conflict: 3,
  validation: 4,
  access: 5,
  pendingApproval: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Thrown by a command that has printed its result but must not exit 0: a write that opened a
 * change request instead of writing. Not a failure: nothing more is printed.
 */
export class ExitWith {
  constructor(readonly exitCode: ExitCode) {}
}

/** The exit code for a failed HTTP response. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 409 || status === 412) return ExitCode.conflict;
  if (status === 400 || status === 413 || status === 422) return ExitCode.validation;
  if (status === 401 || status === 403) return ExitCode.access;
  return ExitCode.error;
}

/** The exit code for an error commander raised (its own exit code 0 = help or version shown). */
export function exitCodeForCommander(commanderExitCode: number): ExitCode {
  return commanderExitCode === 0 ? ExitCode.ok : ExitCode.usage;
}

export interface CliErrorOptions {
  exitCode: ExitCode;
  /** Machine-readable code: the server's (`revision_conflict`) or the CLI's own (`usage`). */
  code: string;
  /** The failing input: a flag, a header, a JSON pointer. */
  field?: string | undefined;
  /** HTTP status when the error came from the registry. */
  status?: number | undefined;
  requestId?: string | undefined;
  details?: unknown;
  /** One sentence on what to do next. */
  hint?: string | undefined;
  /** From Retry-After on a 429: how long to wait before trying again. */
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/** Every failure the CLI reports: plain words plus what a script needs to branch on. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  readonly field: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly details: unknown;
  readonly hint: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: CliErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode;
    this.code = options.code;
    this.field = options.field;
    this.status = options.status;
    this.requestId = options.requestId;
    this.details = options.details;
    this.hint = options.hint;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const usageError = (message: string, field?: string, hint?: string) =>
  new CliError(message, { exitCode: ExitCode.usage, code: "usage", field, hint });

export const localValidationError = (message: string, field?: string, details?: unknown) =>
  new CliError(message, { exitCode: ExitCode.validation, code: "invalid_document", field, details });

export interface ServerErrorBody {
  code?: string | undefined;
  message?: string | undefined;
  field?: string | undefined;
  details?: unknown;
  requestId?: string | undefined;
}

/** What the CLI knows about the request besides the response body. */
export interface ResponseContext {
  /** Retry-After, in seconds, when the registry sent one. */
  retryAfterSeconds?: number | undefined;
  /** Whether the request carried a token. */
  tokenSent?: boolean | undefined;
  /** Where the token came from (`--token`, `NEXUS_TOKEN`, the config file), when known. */
  tokenSource?: string | undefined;
}

/** A registry error response as a CliError; `body` is the `error` member of the response, if any. */
export function errorFromResponse(
  status: number,
  statusText: string,
  body: ServerErrorBody | undefined,
  context: ResponseContext = {},
) {
  const serverMessage =
    body?.message ??
    `the registry answered HTTP ${status}${statusText ? ` ${statusText}` : ""} without an error body`;
  const code = body?.code ?? `http_${status}`;
  const access = accessFailure(status, code, serverMessage, context);
  return new CliError(access?.message ?? serverMessage, {
    exitCode: exitCodeForStatus(status),
    code,
    field: body?.field,
    status,
    requestId: body?.requestId,
    details: body?.details,
    hint: access ? access.hint : hintFor(status, code),
    retryAfterSeconds: status === 429 ? context.retryAfterSeconds : undefined,
  });
}

function hintFor(status: number, code: string | undefined): string | undefined {
  if (code === "revision_conflict")
    return "Fetch the layer again (nexus get / nexus edit), reapply your change, and retry.";
  if (status >= 500)
    return "This is a problem on the registry's side; quote the request id when reporting it.";
  return undefined;
}

/** The same error with a different hint (e.g. where the user's unsaved work was kept). */
export function withHint(err: CliError, hint: string): CliError {
  return new CliError(err.message, {
    exitCode: err.exitCode,
    code: err.code,
    field: err.field,
    status: err.status,
    requestId: err.requestId,
    details: err.details,
    hint,
    retryAfterSeconds: err.retryAfterSeconds,
    cause: err.cause,
  });
}
