/**
 * The `nexus` CLI, run as a child process against the real registry (Postgres, NATS, Redis
 * through the registry's own test harness) listening on a loopback port. Each environment has
 * its own HOME and TMPDIR, and children get no NEXUS_* variables from the outside.
 *
 * The children run the current sources bundled into one file by esbuild (built once per test
 * file), not `bin/nexus.js`: the bin compiles every module through tsx at each start, which took
 * three to four times as long as the command itself and made the CLI tests the slowest part of
 * the suite. The bin is the same `run(process.argv, processIo())` behind tsx; `BIN` is still
 * run for real by the edit-race test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import {
  type Harness,
  type HarnessOptions,
  startRegistry,
} from "../../../../services/config-registry/test/integration/harness.js";

export const BIN = fileURLToPath(new URL("../../bin/nexus.js", import.meta.url));
const CLI_DIR = fileURLToPath(new URL("../..", import.meta.url));

/** Writes the CLI with every dependency as one ES module to `outfile`; the same entry as the bin. */
async function bundleCli(outfile: string): Promise<void> {
  await build({
    stdin: {
      contents:
        'import { run, processIo } from "./src/main.ts";\nprocess.exitCode = await run(process.argv, processIo());\n',
      resolveDir: CLI_DIR,
      loader: "ts",
      sourcefile: "nexus-test-entry.ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    logLevel: "warning",
    // CommonJS dependencies bundled into an ES module still call require() for node built-ins.
    banner: {
      js: 'import { createRequire as nexusCreateRequire } from "node:module";\nconst require = nexusCreateRequire(import.meta.url);',
    },
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface CliEnvironment {
  registry: Harness;
  url: string;
  /** The children's HOME; the default config file is `$HOME/.config/nexus/config.json`. */
  home: string;
  /** The children's TMPDIR (where `nexus edit` puts its file). */
  tmp: string;
  /** A scratch directory for test files. */
  dir: string;
  defaultConfigPath: string;
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  start(args: readonly string[], options?: RunOptions): RunningCli;
  close(): Promise<void>;
}

/**
 * Children get NEXUS_TOKEN: an admin token, owned by `tokenOwner` when given (the author of their
 * writes), or none with `withoutToken` (to test logging in). `registry` options go to the
 * registry's harness (e.g. a failed-login limiter).
 */
export async function startCliEnvironment(
  options: { tokenOwner?: string; withoutToken?: boolean; registry?: HarnessOptions } = {},
): Promise<CliEnvironment> {
  const registry = await startRegistry(options.registry);
  const token = options.tokenOwner
    ? await registry.tokenFor(["admin"], { owner: options.tokenOwner })
    : registry.adminToken;
  await registry.registry.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = registry.registry.app.server.address() as AddressInfo;
  const root = await mkdtemp(join(tmpdir(), "nexus-cli-it-"));
  const home = join(root, "home");
  const tmp = join(root, "tmp");
  const dir = join(root, "files");
  const program = join(root, "nexus.mjs");
  await Promise.all([mkdir(home), mkdir(tmp), mkdir(dir), bundleCli(program)]);
  const running = new Set<RunningCli>();

  const childEnv = (extra: RunOptions["env"] = {}) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      TMPDIR: tmp,
      // The registry's admin, unless a test logs in or clears it (`NEXUS_TOKEN: undefined`).
      ...(options.withoutToken ? {} : { NEXUS_TOKEN: token }),
    };
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  };

  const start = (args: readonly string[], options: RunOptions = {}) => {
    const child = spawn(process.execPath, [program, ...args], {
      cwd: options.cwd ?? dir,
      env: childEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end(options.stdin ?? "");
    const cli = new RunningCli(child);
    running.add(cli);
    void cli.exited.then(() => running.delete(cli));
    return cli;
  };

  return {
    registry,
    url: `http://127.0.0.1:${port}`,
    home,
    tmp,
    dir,
    defaultConfigPath: join(home, ".config", "nexus", "config.json"),
    start,
    run: (args, options) => start(args, options).exited,
    async close() {
      for (const cli of running) cli.child.kill("SIGKILL");
      await registry.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A CLI process still running (e.g. `nexus watch`): await its output, then stop it. */
export class RunningCli {
  stdout = "";
  stderr = "";
  readonly exited: Promise<CliResult>;
  #waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
      for (const wake of this.#waiters) wake();
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
      for (const wake of this.#waiters) wake();
    });
    this.exited = new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => {
        for (const wake of this.#waiters) wake();
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves when stdout's complete lines satisfy `predicate`; fails if the process ends first. */
  waitForStdout<T>(predicate: (lines: string[]) => T | undefined, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const lines = this.stdout.split("\n").slice(0, -1);
        const found = predicate(lines);
        if (found !== undefined && found !== false) {
          finish();
          resolve(found);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish();
          reject(
            new Error(
              `the CLI exited before the expected output.\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for output.\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<CliResult> {
    this.child.kill(signal);
    return this.exited;
  }
}
