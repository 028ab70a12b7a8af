/** `nexus drift [ns] [env]`: open drift findings (stale, rejected, divergent, policy). */
import type { DriftKind, FindingQuery } from "@nexus/contracts";
import { type Command, Option } from "commander";
import { contextOf, driftClientOf } from "../context.js";
import type { Io } from "../output/output.js";
import { renderTable, shortTime } from "../output/table-fns.js";
import { parseName } from "./args.js";

/** The drift-detector's finding kinds and statuses (`DriftKind`, `FindingQuery`: a unit test keeps them equal). */
export const DRIFT_KINDS = [
  "stale",
  "rejected",
  "divergent",
  "source",
  "policy",
] as const satisfies readonly DriftKind[];
export const FINDING_STATUSES = [
  "active",
  "open",
  "resolving",
  "resolved",
  "all",
] as const satisfies readonly FindingQuery["status"][];

interface DriftOptions {
  kind?: string;
  status?: string;
  limit?: string;
}

export function registerDrift(program: Command, io: Io): void {
  program
    .command("drift")
    .description("drift findings from the drift-detector (open ones unless --status says otherwise)")
    .argument("[namespace]", "only this namespace", parseName)
    .argument("[environment]", "only this environment", parseName)
    .addOption(new Option("--kind <kind>", "only this kind").choices(DRIFT_KINDS))
    .addOption(new Option("--status <status>", "which findings").choices(FINDING_STATUSES).default("active"))
    .option("--limit <n>", "at most this many (newest first)", "200")
    .action(
      async (ns: string | undefined, env: string | undefined, options: DriftOptions, command: Command) => {
        const ctx = contextOf(io, command);
        const { items } = await (await driftClientOf(ctx)).findings({
          namespace: ns,
          environment: env,
          kind: options.kind,
          status: options.status,
          limit: options.limit,
        });
        if (ctx.out.json) {
          ctx.out.data({ items });
          return;
        }
        if (items.length === 0) {
          ctx.out.text("no drift findings");
          return;
        }
        const rows = items.map((f) => [
          f.kind,
          f.severity,
          f.status,
          `${f.namespace}/${f.environment}`,
          f.instanceIds.join(", ") || "-",
          shortTime(f.firstSeenAt),
          f.summary,
        ]);
        ctx.out.text(
          renderTable(
            ["kind", "severity", "status", "target", "instances", "since", "summary"],
            rows,
            ctx.out.colors,
          ),
        );
      },
    );
}
