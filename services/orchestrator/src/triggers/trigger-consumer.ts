import { CONFIG_CHANGED } from "@nexus/contracts";
import { type Bus, type Consumption, type EventOf, type Logger, type Pool, processOnce } from "@nexus/kit";
import { triggeredBy } from "../pipelines/pipeline-fns.js";
import { type PipelineStore, sourceKey } from "../pipelines/pipeline-store.js";
import type { PipelineDefinition } from "../pipelines/pipeline-types.js";
import type { RunService } from "../runs/run-service.js";
import { isRollbackAuthor } from "../steps/promote-step.js";
import type { TriggerIndex } from "./trigger-index.js";

export const TRIGGER_DURABLE = "orchestrator-triggers";

/**
 * `config.changed` from a write to a pipeline's source overlay starts a run of it, promoting the
 * revision that write made. The runs and the handled mark commit together: a redelivered event
 * starts nothing twice.
 */
export function consumeTriggers(deps: {
  bus: Pick<Bus, "consumeBatches">;
  pool: Pool;
  pipelines: PipelineStore;
  runs: Pick<RunService, "startFromEvent">;
  logger: Logger;
  wake(): void;
  /** Which sources pipelines promote from, in memory; null or absent: ask Postgres. */
  index?: Pick<TriggerIndex, "sources">;
  /** Told every revision a batch carries: each is committed (the rollout answers' bound). */
  seen?: (namespace: string, revision: number) => void;
}): Promise<Consumption> {
  const triggered = (list: Awaited<ReturnType<PipelineStore["bySource"]>>) =>
    list.filter((p) => triggeredBy(p.definition as unknown as PipelineDefinition, "config.changed"));

  async function startRuns(event: EventOf<typeof CONFIG_CHANGED>): Promise<void> {
    const d = event.data;
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
  }

  // A new durable starts at new events: a first deployment does not start runs for the stream's
  // history. Once it exists it resumes where it stopped, so writes made while no orchestrator ran
  // still start their runs. Events delivered together are looked at together: most changes start
  // nothing, and a batch of them costs one one-row read (the trigger index's version), with no
  // transaction or handled mark.
  return deps.bus.consumeBatches(
    CONFIG_CHANGED,
    { durable: TRIGGER_DURABLE, deliverPolicy: "new", maxBatch: 100 },
    async (items) => {
      if (deps.seen) for (const { event } of items) deps.seen(event.data.namespace, event.data.revision);
      // Only a write to the source overlay itself moves what a promotion copies; a pipeline's own
      // rollback puts back what was there and is not promoted onwards.
      const writes = items
        .map((i) => i.event)
        .filter(
          (e) =>
            e.data.layer === e.data.environment &&
            (e.data.trigger === "write" || e.data.trigger === "rollback") &&
            !isRollbackAuthor(e.data.actor),
        );
      if (writes.length === 0) return;
      const sources = deps.index
        ? await deps.index.sources(deps.pool)
        : await deps.pipelines.triggeredSources(
            deps.pool,
            writes.map((e) => ({ namespace: e.data.namespace, environment: e.data.environment })),
          );
      // In stream order, one transaction each (each event's runs and its handled mark commit together).
      for (const e of writes) if (sources.has(sourceKey(e.data))) await startRuns(e);
    },
  );
}
