/** `nexus get <ns> <env>`: the resolved configuration, as YAML / JSON / .env, or explained per key. */
import { type Command, Option } from "commander";
import type { ApiClient } from "../api-client.js";
import { declaresQueryParam, RESOLVED_PATH } from "../capabilities-fns.js";
import { contextOf } from "../context.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { type DocumentFormat, renderDocument } from "../output/format-fns.js";
import type { Io } from "../output/output.js";
import { explainTable, resolvedHeader } from "../output/views-fns.js";
import { envArgument, formatOption, nsArgument, parseRevision } from "./args.js";

interface GetOptions {
  explain?: boolean;
  revision?: number;
  format?: DocumentFormat;
}

export function registerGet(program: Command, io: Io): void {
  program
    .command("get")
    .description("print the resolved configuration of a namespace in an environment")
    .addArgument(nsArgument())
    .addArgument(envArgument())
    .option("--explain", "show, per key, the layer and revision its value came from")
    .option(
      "--revision <n>",
      "the configuration as of revision n (if the registry supports it)",
      parseRevision,
    )
    .addOption(new Option("--format <format>", "json, yaml or env (default yaml)").argParser(formatOption()))
    .action(async (ns: string, env: string, options: GetOptions, command: Command) => {
      const ctx = contextOf(io, command);
      if (ctx.out.json && options.format !== undefined && options.format !== "json") {
        throw usageError("--json prints the API response as JSON; leave out --format", "format");
      }
      if (options.explain && options.format !== undefined && !ctx.out.json) {
        throw usageError("--explain prints a table of keys; leave out --format", "format");
      }
      const client = await ctx.client();
      if (options.revision !== undefined) await assertRevisionReads(client);
      const read = await client.getResolved(ns, env, {
        ...(options.explain ? { explain: true } : {}),
        ...(options.revision !== undefined ? { revision: options.revision } : {}),
      });
      if (read.notModified) throw new Error("304 without If-None-Match");
      const { resolved } = read;
      if (ctx.out.json) return ctx.out.data(resolved);
      if (options.explain) return ctx.out.text(explainTable(resolved, ctx.out.colors));
      const format = options.format ?? "yaml";
      const body = renderDocument(resolved.content, format);
      ctx.out.text(format === "json" ? body : `${resolvedHeader(resolved)}\n${body}`);
    });
}

/** Older revisions of the resolved configuration need a registry that declares `?revision=`. */
async function assertRevisionReads(client: ApiClient): Promise<void> {
  const doc = await client.openApi();
  if (!declaresQueryParam(doc, RESOLVED_PATH, "get", "revision")) {
    throw new CliError(
      `--revision is not supported by this registry (${client.baseUrl}): it serves only the current resolved configuration`,
      {
        exitCode: ExitCode.error,
        code: "not_supported",
        field: "revision",
        hint: "`nexus history <ns> <layer>` lists a layer's revisions; `nexus diff` compares two of them.",
      },
    );
  }
}
