import type { BackupStatus } from "../backups/backup-types.js";
import type { TrafficSample } from "../health/health-model.js";
import type { HealthSummary, InstanceView, ServiceView } from "../health/health-types.js";
import type { PipelineStatus } from "../pipelines/pipeline-types.js";
import { durationMs, globMatches } from "../rules/rule-fns.js";
import type { AlertRule } from "../rules/rule-types.js";
import type {
  AlertState,
  Condition,
  ExpiringToken,
  OpenFinding,
  SeenCertificate,
  TransitionPlan,
} from "./alert-types.js";

export interface Snapshot {
  health: HealthSummary;
  findings: readonly OpenFinding[];
  backups: readonly BackupStatus[];
  pipelines: readonly PipelineStatus[];
  /** Active tokens with an expiry; null when the registry could not be asked (no alert either way). */
  tokens: readonly ExpiringToken[] | null;
  /** HTTP traffic per instance and heartbeat interval (the SLO rules' input). */
  traffic: readonly TrafficSample[];
  /** The last certificate read from each endpoint a rule names; absent: never read. */
  certificates: ReadonlyMap<string, SeenCertificate>;
  now: number;
}

export interface TrafficTotals {
  requests: number;
  errors5xx: number;
  /** The worst p99 of any instance in any interval of the window: conservative, never averaged. */
  p99Ms: number | null;
}

/** A service's traffic received since `from` (ms), summed over its instances and intervals. */
export function trafficOver(samples: readonly TrafficSample[], service: string, from: number): TrafficTotals {
  const totals: TrafficTotals = { requests: 0, errors5xx: 0, p99Ms: null };
  for (const t of samples) {
    if (t.service !== service || t.at < from) continue;
    totals.requests += t.requests;
    totals.errors5xx += t.errors5xx;
    if (t.p99Ms !== null && t.requests > 0) totals.p99Ms = Math.max(totals.p99Ms ?? 0, t.p99Ms);
  }
  return totals;
}

const watched = (rule: { services: readonly string[] }, service: string) =>
  rule.services.some((p) => globMatches(p, service));

/** Instances that count for gauges: alive (a missing instance's numbers are old). */
const liveInstances = (s: ServiceView) =>
  s.instances.filter((i) => i.health === "up" || i.health === "degraded");

function condition(
  rule: AlertRule,
  key: readonly string[],
  summary: string,
  details: string,
  labels: Record<string, string>,
): Condition {
  return {
    fingerprint: ["monitor", rule.name, ...key].join(":"),
    rule: rule.name,
    severity: rule.severity,
    summary: rule.summary ?? summary,
    details,
    labels: { ...labels, ...rule.labels, alertname: rule.name, kind: rule.kind },
    forMs: durationMs(rule.for),
  };
}

/** A service gauge: the largest any live instance reports (outbox and durables are shared). */
function serviceGauge(s: ServiceView, read: (i: InstanceView) => number | null): number | null {
  let max: number | null = null;
  for (const i of liveInstances(s)) {
    const v = read(i);
    if (v !== null) max = Math.max(max ?? 0, v);
  }
  return max;
}

/** Every condition that holds now, one per (rule, subject). Pure: the same snapshot, the same list. */
export function evaluateRules(rules: readonly AlertRule[], snap: Snapshot): Condition[] {
  const out: Condition[] = [];
  for (const rule of rules) {
    if (rule.kind === "drift_finding_open") {
      const minAge = durationMs(rule.olderThan);
      for (const f of snap.findings) {
        if (rule.findingKinds && !rule.findingKinds.includes(f.kind)) continue;
        const age = snap.now - f.openedAt.getTime();
        if (age < minAge) continue;
        out.push(
          condition(
            rule,
            [f.findingId],
            `${f.kind} drift in ${f.namespace}/${f.environment} open for ${Math.floor(age / 60_000)} min`,
            f.summary,
            { namespace: f.namespace, environment: f.environment, finding_kind: f.kind },
          ),
        );
      }
      continue;
    }
    if (
      rule.kind === "backup_failed" ||
      rule.kind === "backup_overdue" ||
      rule.kind === "token_expiring" ||
      rule.kind === "pipeline_failed" ||
      rule.kind === "certificate_expiring"
    ) {
      out.push(...outsideConditions(rule, snap));
      continue;
    }
    for (const s of snap.health.services) {
      if (!watched(rule, s.service)) continue;
      switch (rule.kind) {
        case "service_down":
          if (s.health === "down")
            out.push(
              condition(rule, [s.service], `${s.service} is down: ${s.reason}`, s.reason, {
                service: s.service,
              }),
            );
          break;
        case "instance_down":
          for (const i of s.instances)
            if (i.health === "missing")
              out.push(
                condition(
                  rule,
                  [s.service, i.instanceId],
                  `${s.service} instance ${i.instanceId} stopped sending heartbeats`,
                  `Last heartbeat at ${i.lastSeenAt} (every ${i.intervalSeconds} s).`,
                  { service: s.service, instance: i.instanceId },
                ),
              );
          break;
        case "dependency_down":
          for (const i of liveOrNotReady(s))
            for (const d of i.dependencies)
              if (d.status === "down" && globMatches(rule.dependency, d.name))
                out.push(
                  condition(
                    rule,
                    [s.service, i.instanceId, d.name],
                    `${s.service} instance ${i.instanceId} cannot reach ${d.name}`,
                    d.error ?? "",
                    { service: s.service, instance: i.instanceId, dependency: d.name },
                  ),
                );
          break;
        case "outbox_backlog": {
          const v = serviceGauge(s, (i) => i.gauges.outboxBacklog);
          if (v !== null && v > rule.threshold)
            out.push(
              condition(
                rule,
                [s.service],
                `${s.service} has ${v} unpublished events (over ${rule.threshold})`,
                "",
                {
                  service: s.service,
                },
              ),
            );
          break;
        }
        case "consumer_lag": {
          const v = serviceGauge(s, (i) => i.gauges.consumerPending + i.gauges.consumerAckPending);
          if (v !== null && v > rule.threshold)
            out.push(
              condition(
                rule,
                [s.service],
                `${s.service} is ${v} messages behind (over ${rule.threshold})`,
                "",
                {
                  service: s.service,
                },
              ),
            );
          break;
        }
        case "slo_error_rate": {
          const t = trafficOver(snap.traffic, s.service, snap.now - durationMs(rule.window));
          if (t.requests < rule.minRequests) break;
          const ratio = t.errors5xx / t.requests;
          if (ratio > rule.threshold)
            out.push(
              condition(
                rule,
                [s.service],
                `${s.service} answered ${percent(ratio)} of its requests with a server error over ${rule.window} (SLO ${percent(rule.threshold)})`,
                `${t.errors5xx} of ${t.requests} requests answered 5xx.`,
                { service: s.service },
              ),
            );
          break;
        }
        case "slo_latency": {
          const t = trafficOver(snap.traffic, s.service, snap.now - durationMs(rule.window));
          if (t.requests < rule.minRequests || t.p99Ms === null) break;
          if (t.p99Ms > rule.threshold)
            out.push(
              condition(
                rule,
                [s.service],
                `${s.service} p99 latency is ${t.p99Ms} ms over ${rule.window} (SLO ${rule.threshold} ms)`,
                `${t.requests} requests in the window; the p99 is the worst interval's, as a histogram bucket bound.`,
                { service: s.service },
              ),
            );
          break;
        }
        case "dead_letters": {
          const v = serviceGauge(s, (i) => i.gauges.deadLetters);
          if (v !== null && v > rule.threshold)
            out.push(
              condition(rule, [s.service], `${s.service} has ${v} dead letters`, "Look at the DLQ stream.", {
                service: s.service,
              }),
            );
          break;
        }
      }
    }
  }
  return out;
}

type OutsideRule = Extract<
  AlertRule,
  {
    kind: "backup_failed" | "backup_overdue" | "token_expiring" | "pipeline_failed" | "certificate_expiring";
  }
>;

const percent = (ratio: number) => `${Math.round(ratio * 1_000) / 10} %`;
const timeLeft = (ms: number) => (ms >= 86_400_000 ? `${Math.floor(ms / 86_400_000)} days` : minutes(ms));

const minutes = (ms: number) =>
  ms >= 7_200_000 ? `${Math.floor(ms / 3_600_000)} h` : `${Math.floor(ms / 60_000)} min`;

/** Conditions on what other services announce or answer: backups, pipelines and API tokens. */
function outsideConditions(rule: OutsideRule, snap: Snapshot): Condition[] {
  const out: Condition[] = [];
  switch (rule.kind) {
    case "backup_failed":
      for (const b of snap.backups) {
        if (!rule.backupKinds.includes(b.kind) || !b.failedAt) continue;
        // The newest run failed: a failure no verified backup of the kind has come after.
        if (b.verifiedAt && b.verifiedAt >= b.failedAt) continue;
        out.push(
          condition(
            rule,
            [b.kind],
            `The newest ${b.kind} backup failed (${b.failedStage === "verify" ? "its verification restore" : "taking it"})`,
            `${b.failedBackupId}: ${b.failureReason ?? ""}`,
            { backup_kind: b.kind },
          ),
        );
      }
      break;
    case "backup_overdue": {
      const b = snap.backups.find((x) => x.kind === rule.backupKind);
      if (!b) break;
      const since = b.verifiedAt ?? b.watchedSince;
      const age = snap.now - since.getTime();
      if (age < durationMs(rule.within)) break;
      out.push(
        condition(
          rule,
          [b.kind],
          b.verifiedAt
            ? `No ${b.kind} backup verified for ${minutes(age)} (expected within ${rule.within})`
            : `No ${b.kind} backup verified since the monitor began watching ${minutes(age)} ago`,
          b.verifiedBackupId ? `The last verified ${b.kind} backup is ${b.verifiedBackupId}.` : "",
          { backup_kind: b.kind },
        ),
      );
      break;
    }
    case "pipeline_failed":
      for (const p of snap.pipelines) {
        if (p.outcome !== "failed" || !rule.pipelines.some((g) => globMatches(g, p.pipeline))) continue;
        out.push(
          condition(
            rule,
            [p.pipeline],
            `Pipeline ${p.pipeline} failed promoting ${p.namespace} into ${p.environment}${p.failedStep ? ` at step ${p.failedStep}` : ""}`,
            `Run ${p.runId}: ${p.failureReason ?? ""}${p.rolledBack ? " The target was rolled back." : ""}`,
            { pipeline: p.pipeline, namespace: p.namespace, environment: p.environment },
          ),
        );
      }
      break;
    case "token_expiring":
      for (const t of snap.tokens ?? []) {
        const left = t.expiresAt.getTime() - snap.now;
        if (left <= 0 || left > durationMs(rule.within)) continue;
        out.push(
          condition(
            rule,
            [t.id],
            `API token "${t.name}" of ${t.owner} expires in ${timeLeft(left)}`,
            `Expires at ${t.expiresAt.toISOString()}; create a new token and revoke this one.`,
            { token_id: t.id, token_name: t.name, owner: t.owner },
          ),
        );
      }
      break;
    case "certificate_expiring":
      for (const endpoint of rule.endpoints) {
        const cert = snap.certificates.get(endpoint);
        if (!cert) continue;
        const left = cert.validTo.getTime() - snap.now;
        if (left > durationMs(rule.within)) continue;
        out.push(
          condition(
            rule,
            [endpoint],
            left <= 0
              ? `The TLS certificate of ${endpoint} has expired`
              : `The TLS certificate of ${endpoint} expires in ${timeLeft(left)}`,
            `${cert.subject ? `"${cert.subject}" ` : ""}issued by ${cert.issuer || "an unnamed issuer"}, valid to ${cert.validTo.toISOString()}; renew it.`,
            { endpoint },
          ),
        );
      }
      break;
  }
  return out;
}

const liveOrNotReady = (s: ServiceView) =>
  s.instances.filter((i) => i.health === "up" || i.health === "degraded" || i.health === "not_ready");

/**
 * pending → firing once a condition has held for its rule's `for`; firing → resolved when it stops
 * holding; a pending alert that clears is dropped without a word.
 */
export function planTransitions(
  active: readonly AlertState[],
  conditions: readonly Condition[],
  now: Date,
): TransitionPlan {
  const plan: TransitionPlan = { pending: [], fire: [], resolve: [], drop: [] };
  const byFingerprint = new Map(active.map((a) => [a.fingerprint, a]));
  const holding = new Set<string>();
  for (const c of conditions) {
    if (holding.has(c.fingerprint)) continue;
    holding.add(c.fingerprint);
    const current = byFingerprint.get(c.fingerprint);
    if (current?.status === "firing") continue;
    const activeSince = current?.status === "pending" ? current.activeSince : now;
    if (now.getTime() - activeSince.getTime() >= c.forMs) plan.fire.push({ ...c, activeSince });
    else if (current?.status !== "pending") plan.pending.push({ ...c, activeSince });
  }
  for (const a of active) {
    if (holding.has(a.fingerprint)) continue;
    if (a.status === "firing") plan.resolve.push(a);
    else if (a.status === "pending") plan.drop.push(a);
  }
  return plan;
}
