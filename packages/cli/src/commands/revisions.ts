/** `nexus diff`, `nexus history`, `nexus rollback`: a layer's revisions. */
import { type Command, Option } from "commander";
import { contextOf } from "../context.js";
import { describeOperations, entriesAsJson, renderDiffLines } from "../output/diff-fns.js";
import type { Io } from "../output/output.js";
import { historyTable, writeResultLine } from "../output/views-fns.js";
import { layerArgument, nsArgument, parseRevision, parseRevisionOrZero, positiveInt } from "./args.js";
import { reportWrite } from "./write-outcome.js";

interface HistoryOptions {
  limit: number;
  before?: number;
}

interface RollbackOptions {
  message?: string;
  ifMatch?: number;
}

export function registerRevisions(program: Command, io: Io): void {
  program
    .command("diff")
    .description("what changed in a layer between two revisions (0 = the empty document)")
    .addArgument(nsArgument())
    .addArgument(layerArgument())
    .argument("<from>", "older revision (0 = empty)", parseRevisionOrZero)
    .argument("<to>", "newer revision (0 = empty)", parseRevisionOrZero)
    .action(
      async (ns: string, layer: string, from: number, to: number, _options: object, command: Command) => {
        const ctx = contextOf(io, command);
        const client = await ctx.client();
        const diff = await client.diff(ns, layer, from, to);
        // The old values come from the `from` revision, so each change shows before → after.
        const base = from === 0 ? {} : (await client.getRevision(ns, layer, from)).content;
        const entries = describeOperations(diff.operations, base);
        if (ctx.out.json) return ctx.out.data({ ...diff, changes: entriesAsJson(entries) });
        const { colors } = ctx.out;
        const header = colors.bold(`${ns}/${layer}: revision ${from} → ${to}`);
        const lines = entries.length === 0 ? ["  no differences"] : renderDiffLines(entries, colors, "  ");
        ctx.out.text([header, ...lines].join("\n"));
      },
    );

  program
    .command("history")
    .description("the revisions of a layer, newest first")
    .addArgument(nsArgument())
    .addArgument(layerArgument())
    .addOption(
      new Option("--limit <n>", "how many revisions (1-500)").argParser(positiveInt(500)).default(20),
    )
    .option("--before <revision>", "only revisions older than this one (paging)", parseRevision)
    .action(async (ns: string, layer: string, options: HistoryOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const history = await (await ctx.client()).history(ns, layer, {
        limit: options.limit,
        before: options.before,
      });
      if (ctx.out.json) ctx.out.data(history);
      else ctx.out.text(historyTable(history.items, ctx.out.colors));
    });

  program
    .command("rollback")
    .description("write the content of an older revision as a new revision of the layer")
    .addArgument(nsArgument())
    .addArgument(layerArgument())
    .argument("<revision>", "the revision whose content to restore", parseRevision)
    .option("-m, --message <text>", "why: recorded on the new revision")
    .option(
      "--if-match <revision>",
      "refuse (exit 3) unless the layer is still at this revision",
      parseRevisionOrZero,
    )
    .action(
      async (ns: string, layer: string, revision: number, options: RollbackOptions, command: Command) => {
        const ctx = contextOf(io, command);
        const client = await ctx.client();
        const outcome = await client.rollback(ns, layer, revision, {
          message: options.message,
          ifMatch: options.ifMatch,
        });
        reportWrite(
          ctx,
          client.baseUrl,
          outcome,
          (result) =>
            `Rolled back to the content of revision ${revision}.\n${writeResultLine(result, ctx.out.colors)}`,
        );
      },
    );
}
