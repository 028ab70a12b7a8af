import { CONFIG_CHANGED } from "@nexus/contracts";
import type { Bus, Consumption, Pool } from "@nexus/kit";
import { type Change, HEADS_DURABLE } from "../heads/head-changes.js";
import type { PolicyCache } from "../policies/policy-cache.js";
import { targetsToEvaluate } from "../policies/policy-fns.js";
import { POLICY_DURABLE, type PolicyService } from "../policies/policy-service.js";
import { SOURCE_DURABLE, type SourceDriftService } from "../source/source-service.js";
import type { ChangeStore } from "./change-store.js";

export const CHANGES_DURABLE = "drift-changes";

/**
 * Every part of the detector that follows `config.changed`, on one durable (NATS 2.9 has one
 * filter per consumer, and all of them want the same subjects): the events already delivered are
 * taken together, in stream order.
 *
 * 1. Heads (heads/): ONE statement for the batch (change-store.ts), which also reads what the
 *    policies need: their version (the enabled policies are kept in memory, policy-cache.ts) and
 *    which of the batch's targets have an open policy finding.
 * 2. Policies (policies/): only targets that a policy applies to, or that have an open policy
 *    finding, are evaluated, each once per batch, against the document the registry serves now;
 *    every other change costs no registry round trip and no further statement.
 * 3. Source drift (source/): only for writes by the API to a Git-bound layer, or by Git.
 *
 * Each part keeps its own idempotency key (the names of the durables it once had), so a batch
 * retried after one part failed redoes only what did not commit, and the first start after the
 * upgrade (the new durable starts where the oldest of the old ones had got to) skips what they did.
 * This durable replaces `drift-heads`, `drift-policy` and `drift-source`'s config.changed durable.
 */
export function consumeChanges(deps: {
  bus: Pick<Bus, "consumeBatches">;
  pool: Pool;
  changes: Pick<ChangeStore, "record">;
  policyCache: PolicyCache;
  policies: Pick<PolicyService, "evaluateTarget">;
  sources: Pick<SourceDriftService, "changed">;
  maxBatch?: number;
  ackWaitMs?: number;
}): Promise<Consumption> {
  return deps.bus.consumeBatches(
    CONFIG_CHANGED,
    {
      durable: CHANGES_DURABLE,
      replaces: [HEADS_DURABLE, POLICY_DURABLE, SOURCE_DURABLE],
      maxBatch: deps.maxBatch ?? 100,
      ackWaitMs: deps.ackWaitMs,
    },
    async (items) => {
      const changes: Change[] = items.map(({ event, ctx }) => ({
        id: event.id,
        data: event.data,
        at: new Date(Date.parse(event.time ?? "") || Date.now()),
        traceparent: ctx.traceparent,
      }));
      const recorded = await deps.changes.record(deps.pool, HEADS_DURABLE, changes);
      const enabled = await deps.policyCache.enabledAt(recorded.policiesVersion);
      for (const t of targetsToEvaluate(changes, enabled, recorded.openPolicyTargets)) {
        await deps.policies.evaluateTarget(
          t.namespace,
          t.environment,
          { name: POLICY_DURABLE, eventId: t.eventId },
          enabled.filter((p) => p.environment === t.environment),
        );
      }
      for (const c of changes) await deps.sources.changed(c.id, c.data);
    },
  );
}
