/**
 * Running `nexus agent` in-process against the real registry: the agent's own composition
 * (runAgent) with its YAML config parsed as the command parses it, its log lines kept.
 */
import { readFile } from "node:fs/promises";
import { parseAgentConfig } from "../../src/agent/agent-config.js";
import { createAgentLog } from "../../src/agent/agent-log.js";
import { runAgent } from "../../src/agent/run-agent.js";

export interface RunningAgent {
  lines: string[];
  /** Resolves with the agent's exit code. */
  done: Promise<number>;
  stop(): Promise<number>;
}

export function startAgent(
  yamlText: string,
  token: string | undefined,
  childCommand?: string[],
): RunningAgent {
  const lines: string[] = [];
  const log = createAgentLog(
    { write: (t) => void lines.push(String(t).trimEnd()) },
    process.env.DEBUG_AGENT === "1",
  );
  const abort = new AbortController();
  const done = runAgent({
    config: parseAgentConfig(yamlText, "agent.yaml"),
    token,
    childCommand,
    log,
    signal: abort.signal,
    retrySeconds: 0.2,
  });
  return {
    lines,
    done,
    stop: () => {
      abort.abort();
      return done;
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` saying `what`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
  everyMs = 5,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const readText = (path: string) => readFile(path, "utf8").catch(() => "");

export const linesOf = async (path: string) => (await readText(path)).split("\n").filter(Boolean);
