/** `nexus compare <ns> <from> <to>`: two environments side by side, key by key, with provenance. */
import { Argument, type Command } from "commander";
import type { ComparedChange } from "../api-types.js";
import { contextOf } from "../context.js";
import type { Io } from "../output/output.js";
import { nsArgument, parseName } from "./args.js";

const show = (value: unknown) => (value === undefined ? "" : JSON.stringify(value));
const source = (s: ComparedChange["fromSource"]) =>
  s ? ` (${s.layer}${s.revision === null ? "" : ` r${s.revision}`})` : "";

/** One line per change: `~ /db/host  "db" (base r1) → "db.prod" (production r3)`. */
export function compareLines(changes: readonly ComparedChange[]): string[] {
  if (changes.length === 0) return ["  no differences"];
  return changes.map((c) => {
    if (c.op === "add") return `  + ${c.path}  ${show(c.to)}${source(c.toSource)}`;
    if (c.op === "remove") return `  - ${c.path}  ${show(c.from)}${source(c.fromSource)}`;
    return `  ~ ${c.path}  ${show(c.from)}${source(c.fromSource)} → ${show(c.to)}${source(c.toSource)}`;
  });
}

export function registerCompare(program: Command, io: Io): void {
  program
    .command("compare")
    .description("what differs between two environments of a namespace (what a promotion would change)")
    .addArgument(nsArgument())
    .addArgument(new Argument("<from>", "environment to compare from (e.g. staging)").argParser(parseName))
    .addArgument(new Argument("<to>", "environment to compare to (e.g. production)").argParser(parseName))
    .action(async (ns: string, from: string, to: string, _options: object, command: Command) => {
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const comparison = await client.compare(ns, from, to);
      if (ctx.out.json) return ctx.out.data(comparison);
      const header = ctx.out.colors.bold(
        `${ns}: ${from} (revision ${comparison.from.revision}) → ${to} (revision ${comparison.to.revision})`,
      );
      ctx.out.text([header, ...compareLines(comparison.changes)].join("\n"));
    });
}
