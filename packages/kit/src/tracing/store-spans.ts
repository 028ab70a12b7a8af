import { type Attributes, context, SpanKind, trace } from "@opentelemetry/api";
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from "@opentelemetry/semantic-conventions";
import { failSpan, tracer } from "./spans.js";
import { isTracingEnabled } from "./tracing.js";

/**
 * CLIENT spans for Postgres queries and Redis commands, made at the kit's two store boundaries
 * (`createPool`, `createRedis`) rather than by @opentelemetry/instrumentation-pg / -ioredis: those
 * patch the modules through require hooks, which an ESM service's hoisted `import pg from "pg"`
 * never goes through. A span is made only inside another one (a request, a message being
 * processed), as instrumentation-pg's `requireParentSpan` does: background polls stay untraced.
 * With tracing off this is one boolean check per call.
 */

const QUERY_TEXT_LIMIT = 2_000;
const REDIS_SYSTEM = "redis";

/** The SQL statement's first keyword (`SELECT`, `INSERT`, `WITH`, …), upper-case. */
export function operationOf(sql: string): string {
  const match = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql);
  return match?.[1]?.toUpperCase() ?? "QUERY";
}

const activeParent = () => {
  if (!isTracingEnabled()) return undefined;
  const span = trace.getActiveSpan();
  return span && trace.isSpanContextValid(span.spanContext()) ? span : undefined;
};

/** Wrap `target.query` (a pg Pool or client) so promise-returning queries get a span. */
export function traceQueries(
  target: { query: (...args: never[]) => unknown },
  database: string | undefined,
): void {
  const query = target.query.bind(target) as (...args: unknown[]) => unknown;
  target.query = ((...args: unknown[]) => {
    const first = args[0] as string | { text?: string; submit?: unknown } | undefined;
    // Callback style and submittables (cursors, streams) go through untouched.
    if (!activeParent() || typeof args.at(-1) === "function" || (typeof first === "object" && first?.submit))
      return query(...args);
    const text = typeof first === "string" ? first : (first?.text ?? "");
    const operation = operationOf(text);
    const attributes: Attributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
      [ATTR_DB_OPERATION_NAME]: operation,
      [ATTR_DB_QUERY_TEXT]: text.length > QUERY_TEXT_LIMIT ? `${text.slice(0, QUERY_TEXT_LIMIT)}…` : text,
    };
    if (database) attributes[ATTR_DB_NAMESPACE] = database;
    const span = tracer().startSpan(operation, { kind: SpanKind.CLIENT, attributes });
    const result = context.with(trace.setSpan(context.active(), span), () => query(...args));
    if (!(result instanceof Promise)) {
      span.end();
      return result;
    }
    return result.then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        const code = (err as { code?: unknown })?.code;
        if (typeof code === "string") span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, code);
        failSpan(span, err);
        span.end();
        throw err;
      },
    );
  }) as never;
}

interface RedisCommandLike {
  name: string;
  promise: Promise<unknown>;
}

/** Wrap an ioredis client's `sendCommand`: one span per command, named by it (`GET`, `EVALSHA`); no arguments (they hold values). */
export function traceRedisCommands(redis: { sendCommand: (...args: never[]) => unknown }): void {
  const send = redis.sendCommand.bind(redis) as (command: RedisCommandLike, ...rest: unknown[]) => unknown;
  redis.sendCommand = ((command: RedisCommandLike, ...rest: unknown[]) => {
    if (!activeParent() || !command?.promise) return send(command, ...rest);
    const operation = command.name.toUpperCase();
    const span = tracer().startSpan(operation, {
      kind: SpanKind.CLIENT,
      attributes: { [ATTR_DB_SYSTEM_NAME]: REDIS_SYSTEM, [ATTR_DB_OPERATION_NAME]: operation },
    });
    command.promise.then(
      () => span.end(),
      (err: unknown) => {
        failSpan(span, err);
        span.end();
      },
    );
    return send(command, ...rest);
  }) as never;
}
