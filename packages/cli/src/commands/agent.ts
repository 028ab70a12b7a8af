/**
 * `nexus agent --file agent.yaml [-- my-server --flag]`: keeps files rendered from Nexus configs
 * in place for a process in any language, reloads it, and reports for it (see src/agent/). The
 * agent's modules (the SDK, NATS, zod, handlebars, execa) load only when this command runs, so
 * every other command starts as fast as before.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { contextOf } from "../context.js";
import { ExitWith, usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";

interface AgentOptions {
  file: string;
  verbose?: boolean;
  service?: string;
  instanceId?: string;
}

export function registerAgent(program: Command, io: Io): void {
  program
    .command("agent")
    .description(
      "render configs to files, reload or supervise a process, and report for it (runs in the foreground)",
    )
    .argument(
      "[child...]",
      "a program to supervise, after --: restarted with the new environment on each change",
    )
    .addOption(
      new Option("-f, --file <path>", "the agent's YAML config file")
        .env("NEXUS_AGENT_CONFIG")
        .makeOptionMandatory(),
    )
    .option("--service <name>", "who the agent reports as (overrides `service` in the file)")
    .option("--instance-id <id>", "this running copy (overrides `instanceId` in the file)")
    .option("--verbose", "log the SDK's debug lines too")
    .addHelpText(
      "after",
      "\nThe token comes from --token, `tokenFile` in the file, or NEXUS_TOKEN; the registry URL from --url or `url`.\n" +
        "Stops on SIGINT/SIGTERM (exit 0), or when the supervised child exits by itself (its exit code, 1 for 0).",
    )
    .action(async (child: string[], options: AgentOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const { parseAgentConfig, AgentConfigError } = await import("../agent/agent-config.js");
      const { createAgentLog } = await import("../agent/agent-log.js");
      const { runAgent } = await import("../agent/run-agent.js");
      const path = resolve(io.cwd, options.file);
      const text = await readFile(path, "utf8").catch((err: Error) => {
        throw usageError(`cannot read the agent config ${path}: ${err.message}`, "file");
      });
      let config: ReturnType<typeof parseAgentConfig>;
      try {
        config = parseAgentConfig(text, path);
      } catch (err) {
        if (err instanceof AgentConfigError)
          throw usageError(`the agent config is not valid:\n${err.message}`, "file");
        throw err;
      }
      config = {
        ...config,
        url: ctx.options.url ?? config.url,
        service: options.service ?? config.service,
        instanceId: options.instanceId ?? config.instanceId,
      };
      const token = ctx.options.token ?? (await tokenFrom(config.tokenFile)) ?? io.env.NEXUS_TOKEN;
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        const code = await runAgent({
          config,
          token,
          childCommand: child,
          log: createAgentLog(io.stderr, options.verbose === true),
          signal: stop.signal,
        });
        // The supervised child's own exit code, passed on as a process manager expects; it is
        // outside the CLI's table on purpose.
        if (code !== 0) throw new ExitWith(code as never);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

async function tokenFrom(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  const text = await readFile(file, "utf8").catch((err: Error) => {
    throw usageError(`cannot read the token file ${file}: ${err.message}`, "tokenFile");
  });
  return text.trim() || undefined;
}
