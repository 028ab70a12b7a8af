import { ROLLOUT_GATE_COMMAND, RolloutGateCommand, RolloutGateReply } from "@nexus/contracts";
import { assertSubjectMatchesBody, type Bus, type Logger, NotFoundError, type Pool } from "@nexus/kit";
import { namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";

/**
 * `nexus.config.cmd.rollout-gate.<environment>.<namespace>` over NATS request/reply: the
 * orchestrator opens a wave rollout's gate on a place before it commits the rollout's plan, and
 * closes it once the plan completed or was aborted. While a gate is open the place's
 * `config.changed` events say `rolloutGate: true` (the SDK asks the orchestrator before applying);
 * otherwise `false` (it applies without asking). The gate is part of the namespace's write state:
 * a change bumps `write_version`, so no write prepared before it commits after it unmarked.
 */
export function serveRolloutGates(deps: {
  bus: Pick<Bus, "serveCommand" | "subject">;
  pool: Pool;
  namespaces: Pick<NamespaceStore, "setRolloutGate">;
  logger: Pick<Logger, "info">;
  forgetHeld(namespace: string): void;
}) {
  const root = deps.bus.subject(ROLLOUT_GATE_COMMAND);
  return deps.bus.serveCommand({
    subject: `${ROLLOUT_GATE_COMMAND}.>`,
    request: RolloutGateCommand,
    reply: RolloutGateReply,
    queue: "config-registry",
    handler: async (cmd, ctx) => {
      assertSubjectMatchesBody(root, ctx.subject, [
        ["environment", cmd.environment],
        ["namespace", cmd.namespace],
      ]);
      const found = await deps.namespaces.setRolloutGate(deps.pool, cmd.namespace, cmd);
      if (!found) throw namespaceNotFound(cmd.namespace);
      deps.forgetHeld(cmd.namespace);
      if (cmd.open && !found.environments.includes(cmd.environment))
        throw new NotFoundError(
          "environment_not_found",
          `Namespace ${cmd.namespace} has no environment "${cmd.environment}" (it has: ${found.environments.join(", ")})`,
          { field: "environment" },
        );
      const runIds = Object.entries(found.gates)
        .filter(([, environment]) => environment === cmd.environment)
        .map(([runId]) => runId)
        .sort();
      deps.logger.info(
        { namespace: cmd.namespace, environment: cmd.environment, runId: cmd.runId, open: runIds },
        `rollout gate of run ${cmd.runId} on ${cmd.namespace}/${cmd.environment} ${cmd.open ? "opened" : "closed"}`,
      );
      return { ok: true as const, namespace: cmd.namespace, environment: cmd.environment, runIds };
    },
  });
}
