import { CONFIG_CHANGED } from "@nexus/contracts";
import type { Bus, Consumption, Pool, Stoppable } from "@nexus/kit";
import { type ConfigHead, type HeadStore, headOfEvent } from "./head-store.js";

export const HEADS_DURABLE = "monitor-heads";

/**
 * A shared durable writes the grid to Postgres (from the whole stream on first start, so the grid
 * is complete); the changes already delivered are written with one statement.
 */
export function consumeHeads(deps: { bus: Bus; pool: Pool; heads: HeadStore }): Promise<Consumption> {
  return deps.bus.consumeBatches(
    CONFIG_CHANGED,
    { durable: HEADS_DURABLE, concurrency: 1, maxBatch: 100 },
    async (items) => {
      await deps.heads.recordAll(
        deps.pool,
        items.map(({ event }) => headOfEvent(event.data, event.time)),
      );
    },
  );
}

/**
 * `config.changed` live on this instance, for its dashboards at once without waiting for the
 * write (open only while a dashboard stream is: see `LiveHub.feed`).
 */
export function subscribeHeads(deps: { bus: Bus; onHead: (head: ConfigHead) => void }): Stoppable {
  return deps.bus.subscribe(CONFIG_CHANGED, {}, (event) => deps.onHead(headOfEvent(event.data, event.time)));
}
