import {
  DRIFT_DETECTED,
  DRIFT_RESOLVED,
  type DriftDetected,
  type DriftResolved,
  type EventData,
  type EventType,
  POLICY_VIOLATED,
  type PolicyViolated,
} from "@nexus/contracts";
import { type Bus, enqueueEvents, prepareOutboxRows, type Queryable, uuidv7 } from "@nexus/kit";
import { findingPayload, policyViolatedPayload, resolvedPayload } from "./finding-events-fns.js";
import type { TransitionPlan } from "./finding-fns.js";
import type { FindingStore } from "./finding-store.js";
import type { ActiveFinding } from "./finding-types.js";

export interface AppliedPlan {
  opened: ActiveFinding[];
  resolved: ActiveFinding[];
  events: number;
}

/**
 * Writes a transition plan and its announcements in the caller's transaction: one event per
 * finding opened (`drift.detected`, or `policy.violated` for policy findings) and per finding
 * resolved (`drift.resolved`). Updates, silent re-opens and the quiet period publish nothing.
 */
/** The trace (traceparent) a finding's announcement joins: its environment's change's. */
export type TraceOf = (namespace: string, environment: string) => string | undefined;

export function createFindingService(deps: {
  findings: FindingStore;
  bus: Pick<Bus, "envelope" | "subjectFor">;
}) {
  const { findings, bus } = deps;

  /** Events grouped by the trace they join (one outbox batch each; one batch without traces). */
  async function enqueueTraced<T extends EventType>(
    db: Queryable,
    type: T,
    list: readonly (EventData<T> & { namespace: string; environment: string })[],
    traceOf: TraceOf | undefined,
  ): Promise<void> {
    if (list.length === 0) return;
    if (!traceOf) return enqueueEvents(db, prepareOutboxRows(bus, type, list));
    const byTrace = new Map<string | undefined, EventData<T>[]>();
    for (const data of list) {
      const tp = traceOf(data.namespace, data.environment);
      byTrace.set(tp, [...(byTrace.get(tp) ?? []), data]);
    }
    for (const [traceparent, group] of byTrace)
      await enqueueEvents(db, prepareOutboxRows(bus, type, group, { traceparent }));
  }

  return {
    async apply(
      db: Queryable,
      plan: TransitionPlan,
      resolutionOf: (f: ActiveFinding) => string,
      now: Date,
      traceOf?: TraceOf,
    ): Promise<AppliedPlan> {
      const opened = await findings.insert(
        db,
        plan.open.map((desired) => ({ id: uuidv7(), desired })),
        now,
      );
      await findings.update(
        db,
        plan.update.map((u) => ({ id: u.finding.id, desired: u.desired, reopened: u.reopened })),
        now,
      );
      await findings.markResolving(
        db,
        plan.resolving.map((f) => ({ id: f.id, resolution: resolutionOf(f) })),
        now,
      );
      const resolutions = new Map(plan.resolve.map((f) => [f.id, f.resolution ?? resolutionOf(f)]));
      const resolvedIds = await findings.resolve(
        db,
        [...resolutions].map(([id, resolution]) => ({ id, resolution })),
        now,
      );
      const resolved = plan.resolve.filter((f) => resolvedIds.has(f.id));

      const detected: DriftDetected[] = [];
      const violated: PolicyViolated[] = [];
      for (const f of opened) {
        if (f.kind === "policy") violated.push(policyViolatedPayload(f));
        else detected.push(findingPayload(f));
      }
      const closed: DriftResolved[] = resolved.map((f) =>
        resolvedPayload({ ...f, lastSeenAt: f.lastSeenAt }, resolutions.get(f.id) ?? "no longer true", now),
      );
      await enqueueTraced(db, DRIFT_DETECTED, detected, traceOf);
      await enqueueTraced(db, POLICY_VIOLATED, violated, traceOf);
      await enqueueTraced(db, DRIFT_RESOLVED, closed, traceOf);
      return { opened, resolved, events: detected.length + violated.length + closed.length };
    },
  };
}
export type FindingService = ReturnType<typeof createFindingService>;
