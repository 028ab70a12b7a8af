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
  const consumption = await deps.bus.consume(
    CONFIG_CHANGED,
    { durable: HEADS_DURABLE, concurrency: 1 },
    async (event) => {
      await deps.heads.record(deps.pool, headOfEvent(event.data, event.time));
    },
  );
  return { consumption, live };
}
