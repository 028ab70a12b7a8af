import type { RevisionRecordDto, RevisionTimelineDto, TimelineStep } from "@nexus/contracts";
import type { TimelineParts } from "./timeline-types.js";

/** The notifier's fingerprint of the notice a config.changed becomes (intake's CONFIG_CHANGED mapping). */
export const configNoticeFingerprint = (
  namespace: string,
  environment: string,
  revision: number,
  hash: string,
) => `config.changed:${namespace}:${environment}:${revision}:${hash.slice(0, 12)}`;

/** The notifier's fingerprint of a drift finding's alert (raise, escalation and resolve share it). */
export const driftFingerprint = (findingId: string) => `drift:${findingId}`;

/** Every fingerprint the notifier may have delivered about this revision. */
export function fingerprintsOf(parts: Pick<TimelineParts, "record" | "reports">): string[] {
  const { record } = parts;
  return [
    ...record.events.map((e) =>
      configNoticeFingerprint(record.namespace, e.environment, record.revision, e.hash),
    ),
    ...parts.reports.flatMap((r) => r.findings.map((f) => driftFingerprint(f.id))),
  ];
}

const describeTrigger = (trigger: string): string =>
  trigger === "write" || trigger === "rollback" ? "" : ` (${trigger} change)`;

/** The steps of one change in time order (ties keep the order services were asked in). */
export function timelineOf(parts: TimelineParts): TimelineStep[] {
  const { record } = parts;
  const steps: TimelineStep[] = [];
  const add = (step: Omit<TimelineStep, "environment" | "instance"> & Partial<TimelineStep>) =>
    steps.push({ environment: null, instance: null, ...step });

  add({
    at: record.createdAt,
    kind: "written",
    service: "config-registry",
    text: `${record.author} wrote layer ${record.layer} through ${record.source}${record.message ? `: "${record.message}"` : ""}`,
  });
  for (const e of record.events) {
    if (e.publishedAt)
      add({
        at: e.publishedAt,
        kind: "published",
        service: "config-registry",
        environment: e.environment,
        text: `config.changed published for ${e.environment}${describeTrigger(e.trigger)}, hash ${e.hash.slice(0, 12)}`,
      });
    else
      add({
        at: e.writtenAt,
        kind: "published",
        service: "config-registry",
        environment: e.environment,
        text: `config.changed for ${e.environment} is written and not yet published`,
      });
  }
  for (const r of parts.reports) {
    if (r.learntAt)
      add({
        at: r.learntAt,
        kind: "learnt",
        service: "drift-detector",
        environment: r.environment,
        text: `drift-detector processed the change: it now expects revision ${r.revision} in ${r.environment}`,
      });
    for (const rep of r.reports)
      add({
        at: rep.reportedAt,
        kind: rep.status,
        service: rep.service ?? "unknown service",
        environment: r.environment,
        instance: rep.instanceId,
        text: `${rep.instanceId}${rep.service ? ` (${rep.service})` : ""} ${rep.status} it`,
      });
    for (const f of r.findings) {
      add({
        at: f.firstSeenAt,
        kind: "drift-found",
        service: "drift-detector",
        environment: r.environment,
        text: `drift found (${f.kind}, ${f.severity}): ${f.summary}`,
      });
      if (f.resolvedAt)
        add({
          at: f.resolvedAt,
          kind: "drift-resolved",
          service: "drift-detector",
          environment: r.environment,
          text: `drift resolved (${f.kind})`,
        });
    }
  }
  for (const d of parts.deliveries) {
    add({
      at: d.createdAt,
      kind: "notification-queued",
      service: "notifier",
      text: `notification to ${d.receiver} queued: ${d.title}`,
    });
    if (d.deliveredAt)
      add({ at: d.deliveredAt, kind: "notified", service: "notifier", text: `${d.receiver} was notified` });
    else if (d.status === "dead")
      add({
        at: d.updatedAt,
        kind: "notification-failed",
        service: "notifier",
        text: `notification to ${d.receiver} failed${d.deadReason ? `: ${d.deadReason}` : ""}`,
      });
  }
  for (const run of parts.runs) {
    add({
      at: run.createdAt,
      kind: "run-started",
      service: "orchestrator",
      environment: run.target,
      text: `pipeline ${run.pipeline} started (${run.trigger}): ${run.source} → ${run.target}`,
    });
    for (const s of run.steps) {
      if (!s.startedAt) continue;
      add({
        at: s.finishedAt ?? s.startedAt,
        kind: "run-step",
        service: "orchestrator",
        environment: run.target,
        text: `step ${s.index + 1} ${s.name} (${s.type}) ${s.status}${s.attempts > 1 ? ` after ${s.attempts} attempts` : ""}${s.summary ? `: ${s.summary}` : ""}`,
      });
    }
    if (run.finishedAt)
      add({
        at: run.finishedAt,
        kind: "run-finished",
        service: "orchestrator",
        environment: run.target,
        text: `pipeline ${run.pipeline} ${run.status}${run.promotedRevision ? `, ${run.target} now at revision ${run.promotedRevision}` : ""}${run.failure ? `: ${run.failure}` : ""}`,
      });
  }
  // Stable sort: steps at the same millisecond keep cause before effect.
  return steps
    .map((s, i) => ({ s, i, t: Date.parse(s.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.s);
}

/** The environments whose drift-detector view is worth asking for: those the revision published to. */
export const environmentsOf = (record: RevisionRecordDto): string[] => [
  ...new Set(record.events.map((e) => e.environment)),
];

/**
 * Name a service the timeline could not ask, once: it is asked once per environment (the
 * drift-detector) or per fingerprint (the notifier), and each failed ask says the same. A
 * different reason from the same service is added to its entry.
 */
export function noteMissing(missing: RevisionTimelineDto["missing"], service: string, reason: string): void {
  const entry = missing.find((m) => m.service === service);
  if (!entry) missing.push({ service, reason });
  else if (!entry.reason.split("; ").includes(reason)) entry.reason = `${entry.reason}; ${reason}`;
}
