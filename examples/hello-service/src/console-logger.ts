import type { ConfigLogger } from "@nexus/client";

const LEVELS = ["debug", "info", "warn", "error"] as const;
type Level = (typeof LEVELS)[number];

/**
 * One JSON object per line on stdout, like pino writes. The SDK takes any logger with these
 * four methods; a real service would pass its pino logger.
 */
export function consoleLogger(minimum: Level): ConfigLogger {
  const threshold = LEVELS.indexOf(minimum);
  const at =
    (level: Level) =>
    (fields: Record<string, unknown>, msg: string): void => {
      if (LEVELS.indexOf(level) < threshold) return;
      process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
