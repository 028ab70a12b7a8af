import {
  CONFIG_APPLIED,
  type ConfigApplied,
  INSTANCE_HEARTBEAT,
  type InstanceHeartbeat,
} from "@nexus/contracts";
import { type Bus, type Consumption, EventRefusedError } from "@nexus/kit";
import type { KnownTargets } from "../heads/known-targets.js";
import type { InventoryBatcher } from "./inventory-batcher.js";
import { fromApplied, fromHeartbeat } from "./inventory-fns.js";

export const INVENTORY_DURABLE = "drift-inventory";

/**
 * Applied acks and heartbeats into the inventory. Every detector instance binds the same durables,
 * so the server spreads messages over them. Many handlers are in flight at once because each waits
 * for the next flush before it acks; order does not matter (the merge is by event time).
 *
 * The kit already dead-letters a report whose body names another namespace or environment than
 * its subject. A report about a namespace or environment that does not exist is refused too
 * (dead-lettered with the reason): it is not an instance of anything the detector can judge.
 */
export function consumeInventory(deps: {
  bus: Pick<Bus, "consume">;
  batcher: Pick<InventoryBatcher, "add">;
  targets: KnownTargets;
  inFlight: number;
  ackWaitMs: number;
}): Promise<Consumption> {
  return deps.bus.consume(
    [CONFIG_APPLIED, INSTANCE_HEARTBEAT],
    {
      durable: INVENTORY_DURABLE,
      concurrency: deps.inFlight,
      maxAckPending: deps.inFlight * 2,
      ackWaitMs: deps.ackWaitMs,
    },
    async (event) => {
      const report = event.data as ConfigApplied | InstanceHeartbeat;
      if (!(await deps.targets.exists(report.namespace, report.environment))) {
        throw new EventRefusedError(
          "unknown_target",
          `namespace ${report.namespace} has no environment ${report.environment} in the registry (or does not exist)`,
        );
      }
      const at = Date.parse(event.time ?? "") || Date.now();
      const update =
        event.type === CONFIG_APPLIED
          ? fromApplied(event.data as ConfigApplied, at)
          : fromHeartbeat(event.data as InstanceHeartbeat, at);
      await deps.batcher.add(update);
    },
  );
}
