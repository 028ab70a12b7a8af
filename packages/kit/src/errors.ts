/**
 * The one error taxonomy. Domain code throws these; the HTTP error handler and the NATS command
 * responder map them to a status, a machine-readable `code`, and the failing `field`.
 * Anything that is not an AppError is a bug: 500 with a generic message.
 */
export interface AppErrorOptions {
  field?: string;
  details?: unknown;
  cause?: unknown;
}

export class AppError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(statusCode: number, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  /** Expected failures (4xx) are the caller's problem and log at warn; 5xx at error. */
  get expected(): boolean {
    return this.statusCode < 500;
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(400, code, message, options);
  }
}

export class ValidationError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(422, code, message, options);
  }
}

export class UnauthorizedError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(401, code, message, options);
  }
}

export class ForbiddenError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(403, code, message, options);
  }
}

export class TooManyRequestsError extends AppError {
  /** Seconds until the caller may try again (sent as Retry-After). */
  readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds: number, options?: AppErrorOptions) {
    super(429, code, message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(404, code, message, options);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(409, code, message, options);
  }
}

export class PreconditionRequiredError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(428, code, message, options);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(415, "unsupported_media_type", message, options);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(503, code, message, options);
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
