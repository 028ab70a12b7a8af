import { CONFIG_CHANGED } from "@nexus/contracts";
import { type Bus, type Consumption, type Pool, processOnce } from "@nexus/kit";
import type { HeadStore } from "./head-store.js";

export const HEADS_DURABLE = "drift-heads";

/**
 * config.changed → the head of each (namespace, environment) and the hash of every revision it
 * names (the new one and the previous one). At most once per event; a late event never moves a
 * head back.
 */
export function consumeHeads(deps: {
  bus: Pick<Bus, "consume">;
  pool: Pool;
  heads: Pick<HeadStore, "advance" | "rememberHashes">;
}): Promise<Consumption> {
  return deps.bus.consume(CONFIG_CHANGED, { durable: HEADS_DURABLE }, async (event) => {
    const d = event.data;
    const at = new Date(Date.parse(event.time ?? "") || Date.now());
    await processOnce(deps.pool, HEADS_DURABLE, event.id, async (db) => {
      await deps.heads.advance(db, {
        namespace: d.namespace,
        environment: d.environment,
        revision: d.revision,
        hash: d.hash,
        changedAt: at,
        learntFrom: "event",
      });
      const pairs = [{ revision: d.revision, hash: d.hash }];
      if (d.previousRevision && d.previousHash)
        pairs.push({ revision: d.previousRevision, hash: d.previousHash });
      await deps.heads.rememberHashes(db, d.namespace, d.environment, pairs, at);
    });
  });
}
