/** `nexus instances <ns> <env>`: who runs which revision, from the drift-detector's inventory. */
import type { Command } from "commander";
import { contextOf, driftClientOf } from "../context.js";
import type { Io } from "../output/output.js";
import { renderTable, shortHash, shortTime } from "../output/table-fns.js";
import { envArgument, nsArgument } from "./args.js";

export function registerInstances(program: Command, io: Io): void {
  program
    .command("instances")
    .description("which instances run which revision, and how far behind they are (from the drift-detector)")
    .addArgument(nsArgument())
    .addArgument(envArgument())
    .option("--all", "include instances that went away")
    .action(async (ns: string, env: string, options: { all?: boolean }, command: Command) => {
      const ctx = contextOf(io, command);
      const result = await (await driftClientOf(ctx)).instances(ns, env, options.all === true);
      if (ctx.out.json) {
        ctx.out.data(result);
        return;
      }
      const head = result.head
        ? `${ns}/${env} should run revision ${result.head.revision} (sha256 ${shortHash(result.head.hash)}), published ${shortTime(result.head.changedAt)}`
        : `${ns}/${env}: the drift-detector has not seen a revision yet`;
      ctx.out.text(head);
      if (result.items.length === 0) {
        ctx.out.text("no instances have reported");
        return;
      }
      const rows = result.items.map((i) => [
        i.instanceId,
        i.service,
        i.revision ?? "-",
        i.hash ? shortHash(i.hash) : "-",
        i.status,
        i.lag.revisions === null
          ? "-"
          : // Behind by revisions counts even when the change is under a second old (0 s).
            i.lag.revisions > 0 || i.lag.seconds
            ? `${i.lag.revisions} rev, ${i.lag.seconds ?? 0} s`
            : "current",
        i.rejected ? `rejected ${i.rejected.revision}: ${i.rejected.reason ?? ""}` : "",
        shortTime(i.lastSeenAt),
      ]);
      ctx.out.text(
        renderTable(
          ["instance", "service", "revision", "hash", "status", "behind", "note", "last seen"],
          rows,
          ctx.out.colors,
        ),
      );
    });
}
