/** Plain log lines on stderr, one per event: time, level, words, then key=value details. */
import type { ConfigLogger } from "@nexus/client";
import type { Writer } from "../output/output.js";

export interface AgentLog extends ConfigLogger {
  line(level: "debug" | "info" | "warn" | "error", message: string, fields?: Record<string, unknown>): void;
}

export function createAgentLog(out: Writer, verbose: boolean, now = () => new Date()): AgentLog {
  const line: AgentLog["line"] = (level, message, fields = {}) => {
    if (level === "debug" && !verbose) return;
    const details = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`,
      )
      .join(" ");
    out.write(`${now().toISOString()} ${level.padEnd(5)} ${message}${details ? ` ${details}` : ""}\n`);
  };
  return {
    line,
    debug: (fields, message) => line("debug", message, fields),
    info: (fields, message) => line("info", message, fields),
    warn: (fields, message) => line("warn", message, fields),
    error: (fields, message) => line("error", message, fields),
  };
}
