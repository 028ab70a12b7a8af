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
