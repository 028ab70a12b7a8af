import { execa } from "execa";

export interface CommandRequest {
  /** Program and arguments; no shell. */
  command: readonly string[];
  env: Record<string, string>;
  timeoutMs: number;
}

export interface CommandResult {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved as they came. */
  output: string;
  /** Why it could not start (no such program), in words. */
  failedToStart?: string;
}

/** Where `run` steps execute. Local processes today; container and Kubernetes runners fill the same shape. */
export interface CommandRunner {
  run(request: CommandRequest): Promise<CommandResult>;
}

/** Child processes of this orchestrator (execa): killed at the timeout, output captured. */
export function createLocalCommandRunner(): CommandRunner {
  return {
    async run(req) {
      const [file, ...args] = req.command;
      const result = await execa(file!, args, {
        env: req.env,
        extendEnv: false,
        timeout: req.timeoutMs,
        all: true,
        reject: false,
        stdin: "ignore",
        stripFinalNewline: false,
      });
      const notFound = result.failed && !result.timedOut && result.exitCode === undefined;
      return {
        exitCode: result.exitCode ?? null,
        timedOut: result.timedOut,
        output: typeof result.all === "string" ? result.all : "",
        ...(notFound ? { failedToStart: result.shortMessage } : {}),
      };
    },
  };
}
