import { CONFIG_CHANGED } from "@nexus/contracts";
import type { Bus, Consumption, Pool, Stoppable } from "@nexus/kit";
import { type ConfigHead, type HeadStore, headOfEvent } from "./head-store.js";

export const HEADS_DURABLE = "monitor-heads";

/**
 * `config.changed` twice: a shared durable writes the grid to Postgres (from the whole stream on
 * first start, so the grid is complete), and a live subscription on every monitor instance tells
 * its dashboards at once, without waiting for the write.
 */
export async function consumeHeads(deps: {
  bus: Bus;
  pool: Pool;
  heads: HeadStore;
  onHead: (head: ConfigHead) => void;
}): Promise<{ consumption: Consumption; live: Stoppable }> {
  const live = deps.bus.subscribe(CONFIG_CHANGED, {}, (event) =>
    deps.onHead(headOfEvent(event.data, event.time)),
  );
  // The changes already delivered are written with one statement.
  const consumption = await deps.bus.consumeBatches(
    CONFIG_CHANGED,
    { durable: HEADS_DURABLE, concurrency: 1, maxBatch: 100 },
    async (items) => {
      await deps.heads.recordAll(
        deps.pool,
        items.map(({ event }) => headOfEvent(event.data, event.time)),
      );
    },
  );
  return { consumption, live };
}
