import {
  PIPELINE_APPROVED,
  PIPELINE_AWAITING_APPROVAL,
  PIPELINE_FAILED,
  PIPELINE_ROLLED_BACK,
  PIPELINE_STARTED,
  PIPELINE_STEP_FAILED,
  PIPELINE_STEP_STARTED,
  PIPELINE_STEP_SUCCEEDED,
  PIPELINE_SUCCEEDED,
} from "@nexus/contracts";
import type { Bus, Stoppable } from "@nexus/kit";
import { mayView } from "./dashboard-service.js";
import type { LiveHub } from "./live-hub.js";

const COALESCE_MS = 250;
const PIPELINE_EVENTS = [
  PIPELINE_STARTED,
  PIPELINE_STEP_STARTED,
  PIPELINE_STEP_SUCCEEDED,
  PIPELINE_STEP_FAILED,
  PIPELINE_AWAITING_APPROVAL,
  PIPELINE_APPROVED,
  PIPELINE_ROLLED_BACK,
  PIPELINE_SUCCEEDED,
  PIPELINE_FAILED,
] as const;

/**
 * The orchestrator's `pipeline.*` events, as hints that the pipelines view should ask again: at
 * most one `pipeline` event per namespace/target environment per 250 ms, each only to streams
 * that may view it. The page reads the runs through the orchestrator (its access rules), so the
 * hint carries nothing the user could not read.
 */
export function subscribePipelineHints(deps: { bus: Bus; hub: LiveHub }): Stoppable {
  const pending = new Map<string, { namespace: string; environment: string }>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    for (const cell of pending.values()) deps.hub.send("pipeline", cell, (p) => mayView(p, cell));
    pending.clear();
  };
  const subs = PIPELINE_EVENTS.map((type) =>
    deps.bus.subscribe(type, {}, (event) => {
      if (deps.hub.size() === 0) return;
      const { namespace, environment } = event.data;
      pending.set(`${namespace}/${environment}`, { namespace, environment });
      timer ??= setTimeout(flush, COALESCE_MS);
    }),
  );
  return {
    async stop() {
      clearTimeout(timer);
      await Promise.all(subs.map((s) => s.stop()));
    },
  };
}
