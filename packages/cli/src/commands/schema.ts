/** `nexus schema set | show`: the JSON Schema every resolved environment of a namespace must satisfy. */
import { type Command, Option } from "commander";
import { contextOf } from "../context.js";
import { usageError } from "../exit-codes.js";
import { type DocumentFormat, detectInputFormat, mediaTypeOf, renderDocument } from "../output/format-fns.js";
import type { Io } from "../output/output.js";
import { shortHash, shortTime } from "../output/table-fns.js";
import { formatOption, nsArgument, readInput } from "./args.js";

interface SetOptions {
  file: string;
  format?: DocumentFormat;
}

interface ShowOptions {
  format?: DocumentFormat;
}

export function registerSchema(program: Command, io: Io): void {
  const schema = program.command("schema").description("the JSON Schema of a namespace: set, show");

  schema
    .command("set")
    .description("set the JSON Schema (refused, exit 4, if it is invalid or the current config breaks it)")
    .addArgument(nsArgument())
    .requiredOption("-f, --file <path>", "a .json or .yaml file; - reads stdin")
    .addOption(
      new Option(
        "--format <format>",
        "json or yaml (default: from the file name, else the content)",
      ).argParser(formatOption(["json", "yaml"])),
    )
    .action(async (ns: string, options: SetOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const text = await readInput(options.file, io);
      const format = detectInputFormat(options.file, text, options.format);
      if (format === "env") throw usageError("a JSON Schema is a JSON or YAML document, not .env", "file");
      const saved = await client.putSchema(ns, text, mediaTypeOf(format));
      if (ctx.out.json) ctx.out.data(saved);
      else ctx.out.text(`Schema of ${ctx.out.colors.bold(ns)} set (sha256 ${shortHash(saved.hash)})`);
    });

  schema
    .command("show")
    .description("print the JSON Schema")
    .addArgument(nsArgument())
    .addOption(
      new Option("--format <format>", "json or yaml (default json)").argParser(
        formatOption(["json", "yaml"]),
      ),
    )
    .action(async (ns: string, options: ShowOptions, command: Command) => {
      const ctx = contextOf(io, command);
      if (ctx.out.json && options.format !== undefined && options.format !== "json") {
        throw usageError("--json prints the API response as JSON; leave out --format", "format");
      }
      const found = await (await ctx.client()).getSchema(ns);
      if (ctx.out.json) return ctx.out.data(found);
      const format = options.format ?? "json";
      const body = renderDocument(found.schema, format);
      const about = `schema of ${ns} · set by ${found.updatedBy} at ${shortTime(found.updatedAt)} · sha256 ${shortHash(found.hash)}`;
      ctx.out.text(format === "yaml" ? `# ${about}\n${body}` : body);
    });
}
