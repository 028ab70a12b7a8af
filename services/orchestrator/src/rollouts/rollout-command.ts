import { ROLLOUT_TARGET_COMMAND, RolloutTargetCommand, RolloutTargetReply } from "@nexus/contracts";
import { assertSubjectMatchesBody, type Bus, type Pool } from "@nexus/kit";
import type { RolloutAnswers } from "./rollout-answers.js";
import { targetFor } from "./rollout-fns.js";
import type { RolloutStore } from "./rollout-store.js";

/**
 * `nexus.rollout.cmd.target.<environment>.<namespace>`: the SDK asks before applying a newer
 * revision whether a wave rollout holds it. The newest rollout of the place decides (see
 * `targetFor`); it comes from `answers`, which reads Postgres for a revision newer than what it
 * may answer from memory (see `createRolloutAnswers` for why that is safe): the plan is committed
 * before the promotion writes, so an instance that read the new revision always finds the plan
 * that holds it. Instances asking during a rollout with label waves are recorded with their labels,
 * which is how the promote step knows who is in a wave.
 */
export function serveRolloutTargetCommands(deps: {
  bus: Pick<Bus, "serveCommand" | "subject">;
  pool: Pool;
  rollouts: Pick<RolloutStore, "recordMember">;
  answers: Pick<RolloutAnswers, "newest">;
}) {
  const root = deps.bus.subject(ROLLOUT_TARGET_COMMAND);
  return deps.bus.serveCommand({
    subject: `${ROLLOUT_TARGET_COMMAND}.>`,
    request: RolloutTargetCommand,
    reply: RolloutTargetReply,
    queue: "orchestrator",
    handler: async (cmd, ctx) => {
      assertSubjectMatchesBody(root, ctx.subject, [
        ["environment", cmd.environment],
        ["namespace", cmd.namespace],
      ]);
      const plan = await deps.answers.newest(cmd.namespace, cmd.environment, cmd.revision);
      if (plan?.status === "active" && plan.waves.some((w) => "labels" in w))
        await deps.rollouts.recordMember(deps.pool, plan.runId, cmd.instanceId, cmd.labels);
      const decision = targetFor(plan, cmd, cmd.revision);
      if (decision.decision === "apply" || !plan) return { ok: true as const, decision: "apply" as const };
      return { ok: true as const, rolloutId: plan.runId, ...decision };
    },
  });
}
