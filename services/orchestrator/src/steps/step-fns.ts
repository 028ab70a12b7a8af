/** Small pure pieces of the steps: hook signatures, a command's environment, output limits. No I/O. */
import { createHmac } from "node:crypto";
import type { JsonObject } from "./step-types.js";

/** `sha256=<hex>` of `<timestamp>.<body>`: what a receiver recomputes to trust the call and its time. */
export function hookSignature(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * The environment of a `run` command: the resolved config as `NEXUS_CONFIG` (JSON), each
 * top-level scalar as `NEXUS_CFG_<KEY>` (upper-cased, non-alphanumerics as `_`), and the run's
 * identity. Nothing from the orchestrator's own environment but `PATH`.
 */
export function commandEnv(
  config: JsonObject,
  run: { id: string; namespace: string; target: string; revision: number | undefined },
  path: string,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: path,
    NEXUS_RUN_ID: run.id,
    NEXUS_NAMESPACE: run.namespace,
    NEXUS_ENVIRONMENT: run.target,
    NEXUS_CONFIG: JSON.stringify(config),
  };
  if (run.revision !== undefined) env.NEXUS_REVISION = String(run.revision);
  for (const [key, value] of Object.entries(config)) {
    if (value === null || typeof value === "object") continue;
    env[`NEXUS_CFG_${key.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`] = String(value);
  }
  return env;
}

/** Keep the end of long output (where errors are), marked as cut. */
export function tailOf(text: string, maxChars = 64 * 1024): string {
  return text.length <= maxChars
    ? text
    : `…(${text.length - maxChars} characters cut)\n${text.slice(-maxChars)}`;
}

export const seconds = (ms: number) => Math.round(ms / 100) / 10;
