import { CONFIG_CHANGED } from "@nexus/contracts";
import { type Bus, type Consumption, type Logger, type Pool, processOnce } from "@nexus/kit";
import { triggeredBy } from "../pipelines/pipeline-fns.js";
import type { PipelineStore } from "../pipelines/pipeline-store.js";
import type { PipelineDefinition } from "../pipelines/pipeline-types.js";
import type { RunService } from "../runs/run-service.js";
import { isRollbackAuthor } from "../steps/promote-step.js";

export const TRIGGER_DURABLE = "orchestrator-triggers";

/**
 * `config.changed` from a write to a pipeline's source overlay starts a run of it, promoting the
 * revision that write made. The runs and the handled mark commit together: a redelivered event
 * starts nothing twice.
 */
export function consumeTriggers(deps: {
  bus: Pick<Bus, "consume">;
  pool: Pool;
  pipelines: PipelineStore;
  runs: Pick<RunService, "startFromEvent">;
  logger: Logger;
  wake(): void;
}): Promise<Consumption> {
  // A new durable starts at new events: a first deployment does not start runs for the stream's
  // history. Once it exists it resumes where it stopped, so writes made while no orchestrator ran
  // still start their runs.
  return deps.bus.consume(
    CONFIG_CHANGED,
    { durable: TRIGGER_DURABLE, deliverPolicy: "new" },
    async (event) => {
      const d = event.data;
      // Only a write to the source overlay itself moves what a promotion copies; a pipeline's own
      // rollback puts back what was there and is not promoted onwards.
      if (d.layer !== d.environment || (d.trigger !== "write" && d.trigger !== "rollback")) return;
      if (isRollbackAuthor(d.actor)) return;
      const triggered = (list: Awaited<ReturnType<PipelineStore["bySource"]>>) =>
        list.filter((p) => triggeredBy(p.definition as unknown as PipelineDefinition, "config.changed"));
      // Most changes start nothing: one read, and no transaction or handled mark for them.
      if (triggered(await deps.pipelines.bySource(deps.pool, d.namespace, d.environment)).length === 0)
        return;
      const started = await processOnce(deps.pool, TRIGGER_DURABLE, event.id, async (tx) => {
        const ids: string[] = [];
        for (const p of triggered(await deps.pipelines.bySource(tx, d.namespace, d.environment)))
          ids.push(await deps.runs.startFromEvent(tx, p, d.revision, "config.changed", `event:${d.actor}`));
        return ids;
      });
      if (started.applied && started.result.length > 0) {
        deps.logger.info(
          { runs: started.result, namespace: d.namespace, environment: d.environment, revision: d.revision },
          `revision ${d.revision} of ${d.namespace}/${d.environment} started ${started.result.length} run(s)`,
        );
        deps.wake();
      }
    },
  );
}
