import { PIPELINE_FAILED, PIPELINE_SUCCEEDED } from "@nexus/contracts";
import { type Bus, type Consumption, type Pool, processOnce } from "@nexus/kit";
import type { PipelineStatusStore } from "./pipeline-store.js";

export const PIPELINES_DURABLE = "monitor-pipelines";

/** The orchestrator's finished runs (the `pipeline_failed` rule's input), once each. */
export function consumePipelineOutcomes(deps: {
  bus: Bus;
  pool: Pool;
  store: PipelineStatusStore;
}): Promise<Consumption> {
  return deps.bus.consume(
    [PIPELINE_FAILED, PIPELINE_SUCCEEDED],
    { durable: PIPELINES_DURABLE, concurrency: 1 },
    async (event) => {
      await processOnce(deps.pool, PIPELINES_DURABLE, event.id, (c) =>
        event.type === PIPELINE_FAILED
          ? deps.store.failed(c, event.data, event.time)
          : deps.store.succeeded(c, event.data, event.time),
      );
    },
  );
}
