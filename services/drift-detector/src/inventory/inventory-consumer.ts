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

/** Reports handed over together (those arriving within the bus's batch wait, at most this many). */
const MAX_BATCH = 1_000;

/**
 * Applied acks and heartbeats into the inventory. Every detector instance binds the same durables,
 * so the server spreads messages over them. Reports come in batches (one handler call and one
 * round of acks each, after the flush that wrote them); several batches are in flight at once,
 * because each waits for the next flush before it acks; order does not matter (the merge is by
 * event time).
 *
 * The kit already dead-letters a report whose body names another namespace or environment than
 * its subject. A report about a namespace or environment that does not exist is refused too
 * (dead-lettered with the reason): it is not an instance of anything the detector can judge. Such a
 * refusal fails its batch, which the kit then hands over one report at a time, so only it is
 * refused; the others are written again, which changes nothing (the upsert never moves back).
 */
export function consumeInventory(deps: {
  bus: Pick<Bus, "consumeBatches">;
  batcher: Pick<InventoryBatcher, "add">;
  targets: KnownTargets;
  /** Reports waiting for their flush at most (across batches). */
  inFlight: number;
  ackWaitMs: number;
}): Promise<Consumption> {
  return deps.bus.consumeBatches(
    [CONFIG_APPLIED, INSTANCE_HEARTBEAT],
    {
      durable: INVENTORY_DURABLE,
      maxBatch: Math.min(MAX_BATCH, deps.inFlight),
      concurrency: Math.max(1, Math.ceil(deps.inFlight / MAX_BATCH)),
      maxAckPending: deps.inFlight * 2,
      ackWaitMs: deps.ackWaitMs,
    },
    async (items) => {
      const reports = items.map(({ event }) => ({
        event,
        report: event.data as ConfigApplied | InstanceHeartbeat,
      }));
      // All checked before any is added: a refused batch leaves nothing waiting for a flush.
      for (const { report } of reports) {
        if (!(await deps.targets.exists(report.namespace, report.environment))) {
          throw new EventRefusedError(
            "unknown_target",
            `namespace ${report.namespace} has no environment ${report.environment} in the registry (or does not exist)`,
          );
        }
      }
      await Promise.all(
        reports.map(({ event }) => {
          const at = Date.parse(event.time ?? "") || Date.now();
          return deps.batcher.add(
            event.type === CONFIG_APPLIED
              ? fromApplied(event.data as ConfigApplied, at)
              : fromHeartbeat(event.data as InstanceHeartbeat, at),
          );
        }),
      );
    },
  );
}
