import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { isTransactionConflict } from "../db/pool.js";
import { AppError, isAppError, TooManyRequestsError } from "../errors.js";

/** Fastify's own client errors, mapped onto the taxonomy's codes. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: "malformed_body",
    message: "The body is not valid JSON",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "malformed_body", message: "The body is empty" },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: "body_too_large",
    message: "The body is larger than allowed",
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    message: "This Content-Type is not accepted here",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: "malformed_body",
    message: "Content-Length does not match the body",
  },
};

/** A byte count as people say it: "1 MiB", "512 KiB", "300 bytes". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

const LOCATIONS: Record<string, string> = {
  body: "body",
  querystring: "query",
  params: "path",
  headers: "header",
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string; details?: unknown; requestId: string };
}

/** Turn any thrown thing into (status, body). Unknown errors never leak their message. */
export function toErrorResponse(
  err: unknown,
  requestId: string,
  /** The route's body limit, stated in a 413's message. */
  context: { bodyLimit?: number } = {},
): { status: number; body: ErrorBody; expected: boolean } {
  if (isAppError(err)) {
    return {
      status: err.statusCode,
      expected: err.expected,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.field !== undefined ? { field: err.field } : {}),
          ...(err.details !== undefined ? { details: err.details } : {}),
          requestId,
        },
      },
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const location = LOCATIONS[(err as { validationContext?: string }).validationContext ?? "body"] ?? "body";
    const issues = err.validation.map((v) => ({
      field: pointerToField(v.instancePath),
      message: v.message ?? "is invalid",
    }));
    const first = issues[0]!;
    return {
      status: 400,
      expected: true,
      body: {
        error: {
          code: "invalid_request",
          message: `Invalid ${location}: ${first.field ? `${first.field} ` : ""}${first.message}`.trim(),
          field: first.field || location,
          details: { in: location, issues },
          requestId,
        },
      },
    };
  }
  const fe = err as FastifyError;
  if (isTransactionConflict(err)) {
    // Postgres gave up one of two transactions that waited on each other: nothing was stored.
    return {
      status: 409,
      expected: true,
      body: {
        error: {
          code: "concurrent_change",
          message: "Another change to the same data was stored at the same moment; send the request again.",
          requestId,
        },
      },
    };
  }
  const known = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) {
    const limit =
      known.status === 413 && context.bodyLimit ? `: at most ${formatBytes(context.bodyLimit)}` : "";
    return {
      status: known.status,
      expected: true,
      body: { error: { code: known.code, message: `${known.message}${limit}`, requestId } },
    };
  }
  if (
    !isResponseSerializationError(err as never) &&
    typeof fe?.statusCode === "number" &&
    fe.statusCode < 500
  ) {
    return {
      status: fe.statusCode,
      expected: true,
      body: { error: { code: "bad_request", message: fe.message, requestId } },
    };
  }
  return {
    status: 500,
    expected: false,
    body: {
      error: {
        code: "internal_error",
        message: `Something went wrong on our side. Quote request id ${requestId} when reporting it.`,
        requestId,
      },
    },
  };
}

function pointerToField(pointer: string): string {
  return pointer.replace(/^\//, "").split("/").filter(Boolean).join(".");
}

/** The one error handler and not-found handler every Nexus HTTP API uses. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, expected } = toErrorResponse(err, request.id, {
      bodyLimit: request.routeOptions.bodyLimit,
    });
    if (request.raw.complete === false && reply.getHeader("connection") === "close") {
      // Fastify closes the connection on a body it did not read (a 413), and a client still
      // uploading then gets a reset instead of this answer. The server reads and discards the
      // rest instead, within bounds (discardUnreadBody), and the connection stays usable.
      reply.removeHeader("connection");
    }
    if (expected) {
      request.log.warn({ code: body.error.code, field: body.error.field, status }, body.error.message);
    } else {
      request.log.error({ err }, "request failed with an unexpected error");
    }
    if (status === 401) reply.header("www-authenticate", 'Bearer realm="nexus"');
    if (err instanceof TooManyRequestsError) reply.header("retry-after", String(err.retryAfterSeconds));
    // A dependency outage: worth trying again soon, unlike a bug.
    if (status === 503 && !reply.hasHeader("retry-after")) reply.header("retry-after", "5");
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: {
        code: "route_not_found",
        message: `No route for ${request.method} ${request.url.split("?")[0]}`,
        requestId: request.id,
      },
    });
  });
}

export { AppError };
