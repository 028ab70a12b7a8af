import { activeTraceIds } from "./tracing.js";

/**
 * The logging the SDK needs: a structured object and a message. A pino logger (or a child of
 * one) fits as it is; so does anything with these four methods.
 */
export type ConfigLogFn = (fields: Record<string, unknown>, message: string) => void;

export interface ConfigLogger {
  debug: ConfigLogFn;
  info: ConfigLogFn;
  warn: ConfigLogFn;
  error: ConfigLogFn;
}

const ignore: ConfigLogFn = () => undefined;

/** The default: a library says nothing unless the application asks it to. */
export const silentLogger: ConfigLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/**
 * The application's logger with `trace_id` and `span_id` of the active span on every line (as
 * the services' lines have), so the SDK's lines about a change sit in that change's trace. No
 * active span (no OpenTelemetry SDK registered, or outside a traced pass): the fields as given.
 */
export function withTraceIds(logger: ConfigLogger): ConfigLogger {
  const wrap =
    (fn: ConfigLogFn): ConfigLogFn =>
    (fields, message) => {
      const ids = activeTraceIds();
      fn.call(logger, ids.trace_id ? { ...ids, ...fields } : fields, message);
    };
  return {
    debug: wrap(logger.debug),
    info: wrap(logger.info),
    warn: wrap(logger.warn),
    error: wrap(logger.error),
  };
}
