/** The `nexus` program: global options, the commands, and the one place failures become exit codes. */
import { homedir } from "node:os";
import { Command, CommanderError } from "commander";
import { registerAgent } from "./commands/agent.js";
import { registerAudit } from "./commands/audit.js";
import { registerBackup } from "./commands/backup.js";
import { registerCompare } from "./commands/compare.js";
import { registerDrift } from "./commands/drift.js";
import { registerEdit } from "./commands/edit.js";
import { registerGet } from "./commands/get.js";
import { registerGitSource } from "./commands/git-source.js";
import { registerInstances } from "./commands/instances.js";
import { registerJob } from "./commands/job.js";
import { registerLogin } from "./commands/login.js";
import { registerMonitor } from "./commands/monitor.js";
import { registerNamespaces } from "./commands/namespaces.js";
import { registerNotifier } from "./commands/notifier.js";
import { registerApprove, registerPipeline, registerRun } from "./commands/pipeline.js";
import { registerRevisions } from "./commands/revisions.js";
import { registerRollout } from "./commands/rollout.js";
import { registerSchema } from "./commands/schema.js";
import { registerSecrets } from "./commands/secrets.js";
import { registerSet } from "./commands/set.js";
import { registerToken } from "./commands/token.js";
import { registerTrace } from "./commands/trace.js";
import { registerWatch } from "./commands/watch.js";
import { invocationDir, readEnvironment } from "./env.js";
import { ExitCode, ExitWith, exitCodeForCommander } from "./exit-codes.js";
import { asCliError, errorAsJson, formatError } from "./output/error-fns.js";
import type { Io } from "./output/output.js";

export const VERSION = "0.1.0";

export function buildProgram(io: Io): Command {
  const program = new Command("nexus")
    .description("Nexus configuration registry from the command line")
    .version(VERSION, "-V, --version", "print the CLI version")
    .option("--url <url>", "registry URL (env NEXUS_URL; default: the one saved by `nexus login`)")
    .option("--drift-url <url>", "drift-detector URL for instances and drift (env NEXUS_DRIFT_URL)")
    .option("--token <token>", "API token (env NEXUS_TOKEN; default: the saved one)")
    .option("--config <path>", "config file (env NEXUS_CONFIG; default $XDG_CONFIG_HOME/nexus/config.json)")
    .option("--json", "machine-readable JSON on stdout (errors as one JSON line on stderr)")
    .option("--no-color", "no colours, even on a terminal (NO_COLOR works too)")
    // Settings below are inherited by every command created afterwards with .command().
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      "\nExit codes: 0 ok, 1 error, 2 usage, 3 conflict (409), 4 validation failed (400/422 or a bad document),\n" +
        "5 access refused (401: no, unknown, expired or revoked token; 403: a role is missing),\n" +
        "6 change request opened (202: a protected environment; nothing written until an approver approves it).",
    );

  registerLogin(program, io);
  registerNamespaces(program, io);
  registerGet(program, io);
  registerCompare(program, io);
  registerSet(program, io);
  registerEdit(program, io);
  registerRevisions(program, io);
  registerSchema(program, io);
  registerSecrets(program, io);
  registerWatch(program, io);
  registerInstances(program, io);
  registerNotifier(program, io);
  registerMonitor(program, io);
  registerTrace(program, io);
  registerDrift(program, io);
  registerToken(program, io);
  registerAudit(program, io);
  registerGitSource(program, io);
  registerBackup(program, io);
  registerPipeline(program, io);
  registerRun(program, io);
  registerApprove(program, io);
  registerRollout(program, io);
  registerJob(program, io);
  registerAgent(program, io);
  return program;
}

/** Runs the CLI with `argv` as in process.argv (node, script, arguments); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<ExitCode> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (err) {
    // Commander has already printed its message (and the help hint).
    if (err instanceof CommanderError) return exitCodeForCommander(err.exitCode);
    if (err instanceof ExitWith) return err.exitCode;
    const failure = asCliError(err);
    io.stderr.write(wantsJson(argv) ? `${JSON.stringify(errorAsJson(failure))}\n` : formatError(failure));
    return failure.exitCode;
  }
}

/** `--json` among the arguments (before a `--`): errors are then JSON too. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).includes("--json");
}

/** The real process as the commands see it. stdin is opened only if a command reads it. */
export function processIo(): Io {
  // `nexus watch | head -1`: a reader that went away ends the command quietly, not with a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(0);
  });
  const env = readEnvironment();
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    get stdin() {
      return process.stdin;
    },
    env,
    cwd: invocationDir(env),
    home: homedir(),
  };
}
