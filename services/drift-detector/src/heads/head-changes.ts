import type { ConfigChanged } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type { HeadStore } from "./head-store.js";

/** The idempotency key of the heads' part of a change (the name of the durable it once had). */
export const HEADS_DURABLE = "drift-heads";

/** A `config.changed` as the detector's parts see it. */
export interface Change {
  id: string;
  data: ConfigChanged;
  at: Date;
  /** The event's traceparent: the reconciler judges the head in the change's trace. */
  traceparent?: string | undefined;
}

/**
 * config.changed → the head of each (namespace, environment) and the hash of every revision it
 * names (the new one and the previous one), in the caller's transaction, in stream order. A late
 * event never moves a head back.
 */
export async function recordHeads(
  db: Queryable,
  heads: Pick<HeadStore, "advance" | "rememberHashes">,
  changes: readonly Change[],
): Promise<void> {
  for (const { data: d, at, traceparent } of changes) {
    await heads.advance(db, {
      namespace: d.namespace,
      environment: d.environment,
      revision: d.revision,
      hash: d.hash,
      changedAt: at,
      learntFrom: "event",
      traceParent: traceparent,
    });
    const pairs = [{ revision: d.revision, hash: d.hash }];
    if (d.previousRevision && d.previousHash)
      pairs.push({ revision: d.previousRevision, hash: d.previousHash });
    await heads.rememberHashes(db, d.namespace, d.environment, pairs, at);
  }
}
