/**
 * Telling the process that its config changed: run a command, signal a pid (or the pid in a pid
 * file), or restart a child the agent supervises with the new environment. Every way is bounded
 * by a timeout; a failure is a StepFailure("reload") whose message becomes the `rejected` reason.
 */
import { readFile } from "node:fs/promises";
import { execa, parseCommandString, type ResultPromise } from "execa";
import type { Reload, Supervise } from "./agent-config.js";
import { StepFailure } from "./file-writer.js";

export type ChildEnv = Record<string, string>;

export interface Reloader {
  /** Starts what has to run from the first config (the supervised child); nothing for the others. */
  start(env: ChildEnv): Promise<void>;
  /**
   * `initial`: the agent's first config. A process to signal that is not running yet (no pid
   * file, no such pid) is then not a failure: it reads the files when it starts (a sidecar
   * renders before its main container starts). Resolves to what was done, in words.
   */
  reload(env: ChildEnv, initial?: boolean): Promise<string>;
  stop(): Promise<void>;
}

export function noReload(): Reloader {
  return {
    start: async () => undefined,
    reload: async () => "nothing to reload",
    stop: async () => undefined,
  };
}

export function commandReloader(reload: Reload): Reloader {
  const timeoutMs = reload.timeoutSeconds * 1000;
  return {
    start: async () => undefined,
    stop: async () => undefined,
    async reload(_env, initial = false) {
      if (reload.command) {
        const [program, ...args] = parseCommandString(reload.command);
        const result = await execa(program!, args, {
          reject: false,
          timeout: timeoutMs,
          all: true,
          stdin: "ignore",
        });
        if (result.failed) {
          const output = (result.all ?? "").toString().trim().split("\n").slice(-3).join(" | ");
          const why = result.timedOut
            ? `timed out after ${timeoutMs} ms`
            : `exit code ${result.exitCode ?? "none"}`;
          throw new StepFailure("reload", `${reload.command} failed (${why})${output ? `: ${output}` : ""}`);
        }
        return "command done";
      }
      const pid = reload.pid ?? (await pidFrom(reload.pidFile!, initial));
      if (pid === undefined) return "not running yet (no pid file)";
      try {
        process.kill(pid, reload.signal);
        return `${reload.signal} sent to pid ${pid}`;
      } catch (err) {
        if (initial && (err as NodeJS.ErrnoException).code === "ESRCH") return "not running yet";
        throw new StepFailure(
          "reload",
          `could not send ${reload.signal} to pid ${pid}: ${(err as Error).message}`,
        );
      }
    },
  };
}

async function pidFrom(pidFile: string, initial: boolean): Promise<number | undefined> {
  const text = await readFile(pidFile, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (initial && err.code === "ENOENT") return undefined;
    throw new StepFailure("reload", `could not read the pid file ${pidFile}: ${err.message}`);
  });
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new StepFailure("reload", `${pidFile} does not hold a pid`);
  return pid;
}

export interface SupervisorEvents {
  /** The child ended by itself (not restarted or stopped by the agent). */
  onExit(code: number, signal: string | undefined): void;
  log(message: string): void;
}

/**
 * `nexus agent -- my-server --flag`: the child runs with the agent's environment plus the config's
 * variables; on a change it is stopped (SIGTERM, SIGKILL after stopSeconds) and started again with
 * the new ones, and counts as reloaded once it has stayed up readySeconds.
 */
export function supervisor(command: string[], options: Supervise, events: SupervisorEvents): Reloader {
  let child: ResultPromise | undefined;
  let stopping = false;
  let running: ChildEnv = {};

  const launch = async (env: ChildEnv): Promise<void> => {
    const [program, ...args] = command;
    const proc = execa(program!, args, {
      env,
      extendEnv: true,
      stdio: "inherit",
      reject: false,
      forceKillAfterDelay: options.stopSeconds * 1000,
    });
    child = proc;
    let exited = false;
    void proc.then((result) => {
      exited = true;
      if (child !== proc || stopping) return;
      child = undefined;
      events.onExit(result.exitCode ?? 1, result.signal ?? undefined);
    });
    await new Promise((resolve) => setTimeout(resolve, options.readySeconds * 1000));
    if (exited || proc.pid === undefined) {
      const result = await proc;
      if (child === proc) child = undefined;
      throw new StepFailure(
        "reload",
        `${command.join(" ")} exited within ${options.readySeconds} s of starting (${result.signal ?? `exit code ${result.exitCode}`})`,
      );
    }
    events.log(`started ${command[0]} (pid ${proc.pid})`);
  };

  const end = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    proc.kill("SIGTERM");
    await proc;
  };

  return {
    async start(env) {
      await launch(env);
      running = env;
    },
    async reload(env) {
      await end();
      try {
        await launch(env);
        running = env;
        return "child restarted";
      } catch (err) {
        // The new environment does not run: bring back the child as it was, then refuse.
        events.log(`the restarted child failed; starting it again with the previous config`);
        await launch(running).catch((again: Error) => {
          events.log(`the child does not start with the previous config either: ${again.message}`);
          events.onExit(1, undefined);
        });
        throw err;
      }
    },
    async stop() {
      stopping = true;
      await end();
    },
  };
}
