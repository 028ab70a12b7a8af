/** `nexus set <ns> <layer> -f file`: replace a layer with a YAML / JSON / .env document. */
import { type Command, Option } from "commander";
import { contextOf } from "../context.js";
import { type DocumentFormat, detectInputFormat, mediaTypeOf } from "../output/format-fns.js";
import type { Io } from "../output/output.js";
import { writeResultLine } from "../output/views-fns.js";
import { formatOption, layerArgument, nsArgument, parseRevisionOrZero, readInput } from "./args.js";
import { reportWrite } from "./write-outcome.js";

interface SetOptions {
  file: string;
  message?: string;
  ifMatch?: number;
  format?: DocumentFormat;
}

export function registerSet(program: Command, io: Io): void {
  program
    .command("set")
    .description("replace a layer (base or an environment overlay) with the content of a file")
    .addArgument(nsArgument())
    .addArgument(layerArgument())
    .requiredOption("-f, --file <path>", "a .yaml/.yml, .json or .env file; - reads stdin")
    .option("-m, --message <text>", "why: recorded on the revision")
    .option(
      "--if-match <revision>",
      "refuse (exit 3) unless the layer is still at this revision (0: never written)",
      parseRevisionOrZero,
    )
    .addOption(
      new Option(
        "--format <format>",
        "json, yaml or env (default: from the file name, else from the content)",
      ).argParser(formatOption()),
    )
    .action(async (ns: string, layer: string, options: SetOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const text = await readInput(options.file, io);
      const format = detectInputFormat(options.file, text, options.format);
      // The registry parses the document itself (the same rules for every client); a document
      // that does not parse comes back as a 400 with the line and column: exit 4.
      const outcome = await client.putLayer(ns, layer, text, mediaTypeOf(format), {
        message: options.message,
        ifMatch: options.ifMatch,
      });
      reportWrite(ctx, client.baseUrl, outcome, (result) => writeResultLine(result, ctx.out.colors));
    });
}
