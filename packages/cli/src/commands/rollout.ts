/**
 * `nexus rollout list` and `nexus rollout show <id>`: wave rollouts of promote steps, with their
 * waves and each instance's state. Read from the orchestrator (its URL as for `nexus run`).
 */
import type { RolloutDetailDto, RolloutListDto } from "@nexus/contracts";
import type { Command } from "commander";
import type { Io } from "../output/output.js";
import { renderTable, shortTime } from "../output/table-fns.js";
import { parseName } from "./args.js";
import { ORCHESTRATOR_URL_OPTION, orchestratorFor } from "./pipeline.js";
import { progressWords, revisionWords, rolloutLines } from "./rollout-fns.js";

export function registerRollout(program: Command, io: Io): void {
  const rollout = program
    .command("rollout")
    .description("wave rollouts of promote steps (the orchestrator service)")
    .option(...ORCHESTRATOR_URL_OPTION);

  rollout
    .command("list")
    .description("wave rollouts this token may see, newest first")
    .option("--namespace <ns>", "only this namespace", parseName)
    .option("--environment <env>", "only this environment", parseName)
    .option("--limit <n>", "at most this many", "50")
    .action(async (o: { namespace?: string; environment?: string; limit: string }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const { items } = (await api.rollouts({
        namespace: o.namespace,
        environment: o.environment,
        limit: o.limit,
      })) as RolloutListDto;
      if (ctx.out.json) return ctx.out.data({ items });
      if (items.length === 0) return ctx.out.text("no rollouts");
      ctx.out.text(
        renderTable(
          ["id", "pipeline", "namespace", "environment", "revision", "progress", "started"],
          items.map((r) => [
            r.id,
            r.pipeline,
            r.namespace,
            r.environment,
            revisionWords(r),
            progressWords(r),
            shortTime(r.createdAt),
          ]),
          ctx.out.colors,
        ),
      );
    });

  rollout
    .command("show")
    .description("a rollout's waves (the current one marked) and each instance's wave and state")
    .argument("<id>", "rollout id (its run's id)")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const r = (await api.rollout(id)) as RolloutDetailDto;
      if (ctx.out.json) return ctx.out.data(r);
      const lines = rolloutLines(r);
      if (r.inventoryError) lines.push(`instances unknown: ${r.inventoryError}`);
      else if (r.members.length === 0) lines.push("no instances reported");
      else
        lines.push(
          renderTable(
            ["instance", "wave", "state", "may run", "acked", "status"],
            r.members.map((m) => [
              m.instanceId,
              m.wave ?? "-",
              m.state === "rejected" && m.rejectedReason ? `rejected: ${m.rejectedReason}` : m.state,
              m.targetRevision ?? "-",
              m.ackedRevision ?? "-",
              m.status,
            ]),
            ctx.out.colors,
          ),
        );
      ctx.out.text(lines.join("\n"));
    });
}
