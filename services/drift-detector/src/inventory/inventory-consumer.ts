import {
  CONFIG_APPLIED,
  type ConfigApplied,
  INSTANCE_HEARTBEAT,
  type InstanceHeartbeat,
} from "@nexus/contracts";
import type { Bus, Consumption } from "@nexus/kit";
import type { InventoryBatcher } from "./inventory-batcher.js";
import { fromApplied, fromHeartbeat } from "./inventory-fns.js";

export const INVENTORY_DURABLE = "drift-inventory";

/**
 * Applied acks and heartbeats into the inventory. Every detector instance binds the same durables,
 * so the server spreads messages over them. Many handlers are in flight at once because each waits
 * for the next flush before it acks; order does not matter (the merge is by event time).
 */
export function consumeInventory(deps: {
  bus: Pick<Bus, "consume">;
  batcher: Pick<InventoryBatcher, "add">;
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
      const at = Date.parse(event.time ?? "") || Date.now();
      const update =
        event.type === CONFIG_APPLIED
          ? fromApplied(event.data as ConfigApplied, at)
          : fromHeartbeat(event.data as InstanceHeartbeat, at);
      await deps.batcher.add(update);
    },
  );
}
