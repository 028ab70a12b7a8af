import type { DriftClient } from "../clients/drift-client.js";
import type { MonitorClient } from "../clients/monitor-client.js";
import { rolloutProgress, withSeenAcks } from "./promote-fns.js";
import type { SeenAcks, StepHandler, StepOutcome } from "./step-types.js";

const noRevision: StepOutcome = {
  kind: "failed",
  reason: "no promoted revision to watch: no promote step ran",
};

/** Until at least `percent` of the live instances run the promoted revision (or newer), or the timeout. */
export function createWaitAppliedStep(deps: {
  drift: DriftClient;
  acks: SeenAcks;
  pollMs: number;
}): StepHandler<"wait-applied"> {
  return async ({ run, step, startedAt, now }): Promise<StepOutcome> => {
    const revision = run.context.watchRevision;
    if (revision === undefined) return noRevision;
    const instances = await deps.drift.instances(run.namespace, run.target);
    const p = rolloutProgress(withSeenAcks(instances, deps.acks(run.namespace, run.target)), revision);
    const words = `${p.applied} of ${p.live} live instance(s) on revision ${revision} (${p.percent}%, needs ${step.percent}%)`;
    if (p.live >= step.minInstances && p.percent >= step.percent)
      return { kind: "succeeded", summary: words };
    const leftMs = startedAt.getTime() + step.timeoutSeconds * 1_000 - now.getTime();
    if (leftMs <= 0)
      return { kind: "failed", reason: `not applied within ${step.timeoutSeconds} s: ${words}` };
    // The instances still missing, at least one: an instance the inventory has not seen yet counts too.
    const needed = Math.max(step.minInstances, Math.ceil((p.live * step.percent) / 100));
    return {
      kind: "wait",
      state: {},
      recheckMs: Math.min(leftMs, deps.pollMs),
      progress: words,
      wakeOnAcks: { revision, missing: Math.max(1, needed - p.applied) },
    };
  };
}

/**
 * The environment stays healthy for the bake time: no more instances rejecting the revision than
 * allowed, and, in the monitor's health model (MONITOR_URL), no alert of the listed severities about
 * the target namespace and environment firing since the promotion; without a monitor, no active
 * drift finding of the listed kinds about the revision (the instances' own reports).
 */
export function createHealthGateStep(deps: {
  drift: DriftClient;
  monitor: MonitorClient | undefined;
  pollMs: number;
}): StepHandler<"health-gate"> {
  return async ({ run, step, startedAt, now }): Promise<StepOutcome> => {
    const revision = run.context.watchRevision;
    if (revision === undefined) return noRevision;
    const since = Date.parse(run.context.promotedAt ?? startedAt.toISOString());
    const [instances, findings, alerts] = await Promise.all([
      deps.drift.instances(run.namespace, run.target),
      !deps.monitor && step.failOnFindings.length
        ? deps.drift.activeFindings(run.namespace, run.target)
        : Promise.resolve([]),
      deps.monitor && step.failOnAlerts.length
        ? deps.monitor.firingAbout(run.namespace, run.target)
        : Promise.resolve([]),
    ]);
    const p = rolloutProgress(instances, revision);
    if (p.rejected > step.maxRejected) {
      const reasons = instances
        .filter((i) => i.rejected && i.rejected.revision >= revision)
        .map((i) => `${i.instanceId}: ${i.rejected?.reason ?? "no reason given"}`);
      return {
        kind: "failed",
        reason: `${p.rejected} instance(s) rejected revision ${revision} (allowed ${step.maxRejected}): ${reasons.slice(0, 3).join("; ")}`,
      };
    }
    const severities = new Set<string>(step.failOnAlerts);
    const firing = alerts.filter((a) => severities.has(a.severity) && Date.parse(a.activeSince) >= since);
    if (firing.length > 0)
      return {
        kind: "failed",
        reason: `the monitor has ${firing.length} alert(s) firing about ${run.namespace}/${run.target} since the promotion: ${firing
          .slice(0, 3)
          .map((a) => `${a.rule} (${a.severity}): ${a.summary}`)
          .join("; ")}`,
      };
    const kinds = new Set<string>(step.failOnFindings);
    const bad = findings.filter((f) => kinds.has(f.kind) && (f.expected.revision ?? revision) >= revision);
    if (bad.length > 0)
      return {
        kind: "failed",
        reason: `${bad.length} drift finding(s) on revision ${revision}: ${bad
          .slice(0, 3)
          .map((f) => `${f.kind}: ${f.summary}`)
          .join("; ")}`,
      };
    const leftMs = startedAt.getTime() + step.bakeSeconds * 1_000 - now.getTime();
    const words = `${p.live} live instance(s), ${p.rejected} rejection(s), ${deps.monitor ? "no monitor alerts" : "no drift findings"}`;
    if (leftMs <= 0) return { kind: "succeeded", summary: `healthy for ${step.bakeSeconds} s: ${words}` };
    return {
      kind: "wait",
      state: {},
      recheckMs: Math.min(leftMs, deps.pollMs),
      progress: `baking: ${words}`,
    };
  };
}
