import { type Logger, type LoggerOptions, pino } from "pino";
import { activeTraceIds } from "./tracing/spans.js";

export type { Logger };

/**
 * Paths pino blanks out wherever they appear. Covers auth headers, tokens, passwords and any
 * field named like a secret at the first two levels of a log object.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'req.headers["x-hub-signature-256"]',
  "headers.authorization",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "databaseUrl",
  "*.databaseUrl",
  "DATABASE_URL",
  "NATS_PASSWORD",
  "*.NATS_PASSWORD",
];

export interface LoggerConfig {
  service: string;
  level?: LoggerOptions["level"];
  /** Extra redaction paths for a service's own secrets. */
  redact?: string[];
}

export function createLogger(config: LoggerConfig, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level ?? "info",
    base: { service: config.service },
    redact: { paths: [...REDACT_PATHS, ...(config.redact ?? [])], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // trace_id and span_id of the active span (when tracing is on), to find a line's trace.
    mixin: activeTraceIds,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Strip credentials from a connection URL before it goes anywhere near a log line. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "[unparseable url]";
  }
}
