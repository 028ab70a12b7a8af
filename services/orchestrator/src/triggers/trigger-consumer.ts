import { CONFIG_CHANGED } from "@nexus/contracts";
import {
  type Bus,
  type Consumption,
  consumeWhileWanted,
  type EventOf,
  type Logger,
  type Pool,
  processOnce,
  type WantedConsumption,
} from "@nexus/kit";
import { triggeredBy } from "../pipelines/pipeline-fns.js";
import { type PipelineStore, sourceKey } from "../pipelines/pipeline-store.js";
import type { PipelineDefinition } from "../pipelines/pipeline-types.js";
import type { RolloutStore } from "../rollouts/rollout-store.js";
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
  /** A durable made now starts at events stored from this time (default: new events only). */
  startAt?: Date;
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

  // A new durable starts at `startAt` (or at new events): a first deployment does not start runs
  // for the stream's history. Once it exists it resumes where it stopped, so writes made while no
  // orchestrator ran still start their runs. Events delivered together are looked at together:
  // most changes start nothing, and a batch of them costs one one-row read (the trigger index's
  // version), with no transaction or handled mark.
  return deps.bus.consumeBatches(
    CONFIG_CHANGED,
    {
      durable: TRIGGER_DURABLE,
      ...(deps.startAt ? { startAt: deps.startAt } : { deliverPolicy: "new" as const }),
      maxBatch: 100,
    },
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

/**
 * The trigger consumer only while something here needs `config.changed`: a pipeline triggered by
 * it (from that pipeline's last change on), or an active wave rollout (its answers are bounded by
 * the revisions seen; without them every question is answered from a fresh read, which is correct
 * and only costs more). Otherwise a change costs the orchestrator nothing at all.
 */
export function consumeTriggersWhileWanted(
  deps: Parameters<typeof consumeTriggers>[0] & {
    bus: Pick<Bus, "consumeBatches" | "dropDurables">;
    rollouts: Pick<RolloutStore, "activeSince">;
    everyMs: number;
  },
): WantedConsumption {
  return consumeWhileWanted({
    what: "config.changed, for pipeline triggers and rollout answers",
    logger: deps.logger,
    everyMs: deps.everyMs,
    async wantedSince() {
      const [triggered, rollout] = await Promise.all([
        deps.pipelines.triggeredSince(deps.pool),
        deps.rollouts.activeSince(deps.pool),
      ]);
      const times = [triggered, rollout].filter((t): t is Date => t !== null).map((t) => t.getTime());
      // Postgres's time, compared by NATS with the events' stored times: no allowance, since a run
      // for a write made before its pipeline existed would be wrong (clocks on NTP, as the
      // leases' are).
      return times.length ? new Date(Math.min(...times)) : null;
    },
    start: (since) => consumeTriggers({ ...deps, startAt: since }),
    drop: () => deps.bus.dropDurables(TRIGGER_DURABLE, [CONFIG_CHANGED]),
  });
}
