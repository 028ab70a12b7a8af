import { CONFIG_APPLIED } from "@nexus/contracts";
import type { Bus, Stoppable } from "@nexus/kit";
import { mayView } from "./dashboard-service.js";
import type { LiveHub } from "./live-hub.js";

const COALESCE_MS = 250;

/**
 * Instances' `config.applied` reports, as hints to dashboards that a cell's convergence moved: at
 * most one `applied` event per namespace/environment per 250 ms however many instances report
 * (a thousand acks after a change are one hint), each only to streams that may view it.
 */
export function subscribeApplied(deps: { bus: Bus; hub: LiveHub }): Stoppable {
  const pending = new Map<string, { namespace: string; environment: string }>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    for (const cell of pending.values()) deps.hub.send("applied", cell, (p) => mayView(p, cell));
    pending.clear();
  };
  const sub = deps.bus.subscribe(CONFIG_APPLIED, {}, (event) => {
    if (deps.hub.size() === 0) return;
    const { namespace, environment } = event.data;
    pending.set(`${namespace}/${environment}`, { namespace, environment });
    timer ??= setTimeout(flush, COALESCE_MS);
  });
  return {
    async stop() {
      clearTimeout(timer);
      await sub.stop();
    },
  };
}
