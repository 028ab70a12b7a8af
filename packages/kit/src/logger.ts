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

/** At most this long a line waits in the buffer of a service's stdout (`bufferedStdout`). */
export const LOG_FLUSH_MS = 200;
/** A buffer this full is written at once. */
const LOG_BUFFER_BYTES = 4_096;

/**
 * A service's stdout, buffered: pino's default writes every line on its own through libuv's thread
 * pool (a `write` there, then an `eventfd` write to wake the event loop), ~60–120 µs of CPU per line
 * on the 2-core VM at one request in flight, where a buffered line costs ~10–15 µs and a synchronous
 * one ~15–20 (test/bench/README.md (q)). Lines go out once 4 KiB have gathered or `LOG_FLUSH_MS` after
 * the first, and synchronously when the process exits (pino flushes on `exit`, which an uncaught
 * error's exit goes through too). The trade-off: a process killed outright (SIGKILL, OOM) loses what
 * it logged in its last ≤ `LOG_FLUSH_MS` (≤ 4 KiB); pino's default could lose the lines of a write
 * still in flight.
 */
function bufferedStdout(): { stream: pino.DestinationStream; written: () => void } {
  const stream = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES });
  let pending = false;
  // Only when something was logged since: an empty flush would still cost a write.
  const timer = setInterval(() => {
    if (!pending) return;
    pending = false;
    stream.flush();
  }, LOG_FLUSH_MS);
  timer.unref();
  return {
    stream,
    written: () => {
      pending = true;
    },
  };
}

export function createLogger(config: LoggerConfig, destination?: pino.DestinationStream): Logger {
  const stdout = destination ? undefined : bufferedStdout();
  const options: LoggerOptions = {
    level: config.level ?? "info",
    base: { service: config.service },
    redact: { paths: [...REDACT_PATHS, ...(config.redact ?? [])], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // trace_id and span_id of the active span (when tracing is on), to find a line's trace.
    mixin: activeTraceIds,
    ...(stdout
      ? {
          hooks: {
            streamWrite: (line: string) => {
              stdout.written();
              return line;
            },
          },
        }
      : {}),
  };
  return pino(options, destination ?? stdout!.stream);
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
