/** `nexus ns list | create | show`. */
import { type Command, Option } from "commander";
import { contextOf } from "../context.js";
import type { Io } from "../output/output.js";
import { namespaceFields, namespaceTable } from "../output/views-fns.js";
import { collect, nsArgument, parseName } from "./args.js";

interface CreateOptions {
  description?: string;
  owner?: string[];
  environments?: string[];
}

/** `--environments development,staging` → validated names. */
function environmentList(value: string, previous: string[] | undefined): string[] {
  const names = value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  return [...(previous ?? []), ...names.map(parseName)];
}

export function registerNamespaces(program: Command, io: Io): void {
  const ns = program.command("ns").description("namespaces: list, create, show");

  ns.command("list")
    .description("list every namespace")
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(io, command);
      const items = await (await ctx.client()).listNamespaces();
      if (ctx.out.json) ctx.out.data({ items });
      else ctx.out.text(namespaceTable(items, ctx.out.colors));
    });

  ns.command("create")
    .description("create a namespace")
    .argument("<name>", "namespace name, e.g. payments-api", parseName)
    .option("-d, --description <text>", "what the namespace configures")
    .option("--owner <owner>", "an owner (repeatable)", collect)
    .addOption(
      new Option(
        "--environments <list>",
        "comma-separated environments (default: the registry's, e.g. development,staging,production)",
      ).argParser(environmentList),
    )
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const created = await (await ctx.client()).createNamespace({
        name,
        description: options.description,
        owners: options.owner,
        environments: options.environments,
      });
      if (ctx.out.json) ctx.out.data(created);
      else
        ctx.out.text(
          `Created namespace ${ctx.out.colors.bold(created.name)} (environments: ${created.environments.join(", ")})`,
        );
    });

  ns.command("show")
    .description("show one namespace")
    .addArgument(nsArgument())
    .action(async (name: string, _options: object, command: Command) => {
      const ctx = contextOf(io, command);
      const found = await (await ctx.client()).getNamespace(name);
      if (ctx.out.json) ctx.out.data(found);
      else ctx.out.text(namespaceFields(found, ctx.out.colors));
    });
}
