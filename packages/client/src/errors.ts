/**
 * Every failure the SDK reports is a NexusConfigError with a stable, machine-readable `code`, so
 * callers can branch on it (`err.code === "namespace_not_found"`) instead of parsing messages.
 */
export type NexusConfigErrorCode =
  /** connectConfig was called with options that cannot work; `field` names the option. */
  | "invalid_options"
  /** The registry does not know the namespace (HTTP 404 `namespace_not_found`). */
  | "namespace_not_found"
  /** The namespace exists but has no such environment (HTTP 404 `environment_not_found`). */
  | "environment_not_found"
  /** The registry refused the token (401) or its permissions (403). */
  | "unauthorized"
  | "forbidden"
  /** Nexus could not be reached (network, timeout, 5xx, nobody answering on NATS). Retried. */
  | "unavailable"
  /** The registry answered with something that breaks the contract. Retried. */
  | "invalid_response"
  /** Any other refusal by the registry (4xx); `details` has its error body. */
  | "request_failed"
  /** The resolved config does not satisfy the schema given to connectConfig. */
  | "schema_validation_failed"
  | "initial_rejected"
  /** The client was closed. */
  | "closed";

export interface NexusConfigErrorOptions {
  statusCode?: number;
  field?: string;
  details?: unknown;
  cause?: unknown;
}

export class NexusConfigError extends Error {
  readonly code: NexusConfigErrorCode;
  readonly statusCode: number | undefined;
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(code: NexusConfigErrorCode, message: string, options: NexusConfigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NexusConfigError";
    this.code = code;
    this.statusCode = options.statusCode;
    this.field = options.field;
    this.details = options.details;
  }
}

export function isNexusConfigError(err: unknown): err is NexusConfigError {
  return err instanceof NexusConfigError;
}

/** Worth retrying later: Nexus may come back. Everything else is an answer that will not change. */
export function isTransient(err: unknown): boolean {
  if (!isNexusConfigError(err)) return true;
  return err.code === "unavailable" || err.code === "invalid_response";
}

/** Map a registry error (HTTP status + body code, or a command reply error) onto the taxonomy. */
export function registryError(
  statusCode: number,
  registryCode: string | undefined,
  message: string,
  details?: unknown,
): NexusConfigError {
  const opts = { statusCode, details };
  if (statusCode === 404 && registryCode === "environment_not_found") {
    return new NexusConfigError("environment_not_found", message, opts);
  }
  if (statusCode === 404) return new NexusConfigError("namespace_not_found", message, opts);
  if (statusCode === 401) return new NexusConfigError("unauthorized", message, opts);
  if (statusCode === 403) return new NexusConfigError("forbidden", message, opts);
  if (statusCode >= 500 || statusCode === 429 || statusCode === 408) {
    return new NexusConfigError("unavailable", message, opts);
  }
  return new NexusConfigError("request_failed", message, opts);
}

/** A one-line reason from anything thrown, for logs and `rejected` acks. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
